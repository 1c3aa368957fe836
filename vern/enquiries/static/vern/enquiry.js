/* vern enquiry forms on another site of the same company (docs/enquiries.md).
 *
 * For each <form data-vern-enquiry="contact|demo" action="https://vern.example/api/enquiries/">:
 * fetches a one-time token and the privacy notice from vern, shows the notice in
 * [data-vern-notice], and sends the form as JSON. Errors appear beside their fields
 * in the visitor's language; success replaces the form with vern's thank-you text.
 * Without this script the same form still posts, and vern's own page takes over.
 * No cookies, no storage, nothing sent anywhere but to vern.
 */
(function () {
  "use strict";

  function text(el, value) {
    el.textContent = value;
    return el;
  }

  function clearErrors(form) {
    form.querySelectorAll(".vern-error").forEach(function (el) { el.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (el) {
      el.removeAttribute("aria-invalid");
      var described = (el.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id.indexOf("vern-error-") !== 0;
      });
      if (described.length) el.setAttribute("aria-describedby", described.join(" "));
      else el.removeAttribute("aria-describedby");
    });
  }

  function showNotice(form, notice) {
    var box = form.querySelector("[data-vern-notice]");
    if (!box || !notice) return;
    box.textContent = "";
    var p = document.createElement("p");
    p.textContent = notice.summary;
    var link = document.createElement("a");
    link.href = notice.policy_url;
    link.textContent = notice.policy_link_text;
    box.appendChild(p);
    box.appendChild(link);
  }

  function status(form) {
    var el = form.querySelector("[data-vern-status]");
    if (!el) {
      el = document.createElement("p");
      el.setAttribute("data-vern-status", "");
      el.setAttribute("role", "status");
      form.appendChild(el);
    }
    return el;
  }

  function fieldErrors(form, fields) {
    var first = null;
    Object.keys(fields).forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (!input || !input.id) return;
      var note = text(document.createElement("span"), fields[name].join(" "));
      note.className = "vern-error";
      note.id = "vern-error-" + input.id;
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-invalid", "true");
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
      first = first || input;
    });
    return first;
  }

  function setUp(form) {
    var endpoint = form.action;
    var kind = form.getAttribute("data-vern-enquiry") || "contact";
    var lang = form.getAttribute("data-lang") || document.documentElement.lang || "nb";
    lang = lang.indexOf("en") === 0 ? "en" : "nb";
    var token = form.elements.namedItem("token");
    var sending = false;

    function fetchToken() {
      return fetch(endpoint + "form?kind=" + kind + "&lang=" + lang, { credentials: "omit" })
        .then(function (r) { return r.ok ? r.json() : Promise.reject(r.status); })
        .then(function (body) {
          if (token) token.value = body.token;
          showNotice(form, body.notice);
        });
    }

    fetchToken().catch(function () { /* the plain form post still works */ });

    form.addEventListener("submit", function (event) {
      event.preventDefault();
      if (sending) return;
      sending = true;
      clearErrors(form);
      var data = { kind: kind, lang: lang };
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") data[key] = value;
      });
      var button = form.querySelector("[type=submit]");
      if (button) button.disabled = true;
      fetch(endpoint, {
        method: "POST",
        credentials: "omit",
        headers: { "Content-Type": "application/json" },
        body: JSON.stringify(data)
      })
        .then(function (r) { return r.json().then(function (body) { return { ok: r.ok, body: body }; }); })
        .then(function (result) {
          if (result.ok) {
            var done = text(document.createElement("p"), result.body.message);
            done.setAttribute("role", "status");
            done.setAttribute("tabindex", "-1");
            form.replaceWith(done);
            done.focus();
            return;
          }
          text(status(form), result.body.message);
          var first = result.body.fields ? fieldErrors(form, result.body.fields) : null;
          if (first) first.focus();
          if (["too_fast", "expired", "token", "honeypot"].indexOf(result.body.error) >= 0) fetchToken();
        })
        .catch(function () {
          text(status(form), lang === "en" ? "The enquiry could not be sent. Try again." : "Henvendelsen kunne ikke sendes. Prøv igjen.");
        })
        .then(function () {
          sending = false;
          if (button) button.disabled = false;
        });
    });
  }

  function start() {
    document.querySelectorAll("form[data-vern-enquiry]").forEach(setUp);
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
