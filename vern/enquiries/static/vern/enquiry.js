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

  var RETRY = ["too_fast", "expired", "token", "honeypot"];

  function el(tag, text) {
    var node = document.createElement(tag);
    if (text) node.textContent = text;
    return node;
  }

  function clearErrors(form) {
    form.querySelectorAll(".vern-error").forEach(function (node) { node.remove(); });
    form.querySelectorAll("[aria-invalid]").forEach(function (input) {
      input.removeAttribute("aria-invalid");
      var ids = (input.getAttribute("aria-describedby") || "").split(" ").filter(function (id) {
        return id && id.indexOf("vern-error-") !== 0;
      });
      if (ids.length) input.setAttribute("aria-describedby", ids.join(" "));
      else input.removeAttribute("aria-describedby");
    });
  }

  function showNotice(form, notice) {
    var box = form.querySelector("[data-vern-notice]");
    if (!box || !notice) return;
    box.textContent = "";
    var link = el("a", notice.policy_link_text);
    link.href = notice.policy_url;
    box.appendChild(el("p", notice.summary));
    box.appendChild(link);
  }

  /* Puts each message beside its field; returns the first field and the messages it could not place. */
  function fieldErrors(form, fields) {
    var first = null;
    var loose = [];
    Object.keys(fields).forEach(function (name) {
      var input = form.elements.namedItem(name);
      if (!input || !input.id || !input.insertAdjacentElement) {
        loose.push(fields[name].join(" "));
        return;
      }
      var note = el("span", fields[name].join(" "));
      note.className = "vern-error";
      note.id = "vern-error-" + input.id;
      input.insertAdjacentElement("afterend", note);
      input.setAttribute("aria-invalid", "true");
      var described = input.getAttribute("aria-describedby");
      input.setAttribute("aria-describedby", (described ? described + " " : "") + note.id);
      first = first || input;
    });
    return { first: first, loose: loose };
  }

  function setUp(form) {
    // Attributes, not properties: a field named "action" or "lang" would hide the property.
    var endpoint = new URL(form.getAttribute("action") || "", document.baseURI).href.replace(/\/?$/, "/");
    var kind = form.getAttribute("data-vern-enquiry") === "demo" ? "demo" : "contact";
    var lang = form.getAttribute("data-lang") || form.getAttribute("lang") || document.documentElement.lang || "nb";
    lang = lang.indexOf("en") === 0 ? "en" : "nb";
    var token = form.elements.namedItem("token");
    var honeypot = form.elements.namedItem("website");
    var sending = false;
    // Present (and empty) from the start, so that screen readers announce what is put in it.
    var status = form.querySelector("[data-vern-status]");
    if (!status) {
      status = el("p");
      status.setAttribute("data-vern-status", "");
      form.appendChild(status);
    }
    status.setAttribute("role", "status");

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
      status.textContent = "";
      var data = {};
      new FormData(form).forEach(function (value, key) {
        if (typeof value === "string") data[key] = value;
      });
      data.kind = kind;
      data.lang = lang;
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
          var body = result.body;
          if (result.ok) {
            var done = el("p", body.message);
            done.setAttribute("role", "status");
            done.setAttribute("tabindex", "-1");
            form.replaceWith(done);
            done.focus();
            return;
          }
          var placed = body.fields ? fieldErrors(form, body.fields) : { first: null, loose: [] };
          status.textContent = [body.message].concat(placed.loose).join(" ");
          if (placed.first) placed.first.focus();
          if (body.error === "honeypot" && honeypot) honeypot.value = "";
          if (RETRY.indexOf(body.error) >= 0) fetchToken().catch(function () {});
        })
        .catch(function () {
          status.textContent = lang === "en" ? "The enquiry could not be sent. Try again." : "Henvendelsen kunne ikke sendes. Prøv igjen.";
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
