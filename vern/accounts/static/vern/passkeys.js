/* vern staff passkeys (docs/staff.md): add one on the security page, use one on the code page
 * and on the password-again page.
 *
 * Each [data-passkey="register|sign-in|reauth"] box carries two addresses: data-options (vern
 * answers with WebAuthn options and keeps their challenge) and data-answer (vern checks what the
 * browser's authenticator signed). Texts come from the page, in the staff member's language.
 * Nothing is loaded from elsewhere and nothing is kept in the browser.
 */
(function () {
  "use strict";

  function toBytes(text) {
    var base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    base64 += "===".slice((base64.length + 3) % 4);
    var raw = atob(base64);
    var bytes = new Uint8Array(raw.length);
    for (var i = 0; i < raw.length; i++) bytes[i] = raw.charCodeAt(i);
    return bytes.buffer;
  }

  function toText(buffer) {
    if (!buffer) return null;
    var bytes = new Uint8Array(buffer);
    var raw = "";
    for (var i = 0; i < bytes.length; i++) raw += String.fromCharCode(bytes[i]);
    return btoa(raw).replace(/\+/g, "-").replace(/\//g, "_").replace(/=+$/, "");
  }

  function creationOptions(options) {
    options.challenge = toBytes(options.challenge);
    options.user.id = toBytes(options.user.id);
    (options.excludeCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: options };
  }

  function requestOptions(options) {
    options.challenge = toBytes(options.challenge);
    (options.allowCredentials || []).forEach(function (c) { c.id = toBytes(c.id); });
    return { publicKey: options };
  }

  function credentialJSON(credential) {
    var r = credential.response;
    var response = { clientDataJSON: toText(r.clientDataJSON) };
    if (r.attestationObject) {
      response.attestationObject = toText(r.attestationObject);
      response.transports = typeof r.getTransports === "function" ? r.getTransports() : [];
    } else {
      response.authenticatorData = toText(r.authenticatorData);
      response.signature = toText(r.signature);
      response.userHandle = toText(r.userHandle);
    }
    return {
      id: credential.id,
      rawId: toText(credential.rawId),
      type: credential.type,
      response: response,
      authenticatorAttachment: credential.authenticatorAttachment || null,
      clientExtensionResults: credential.getClientExtensionResults ? credential.getClientExtensionResults() : {},
    };
  }

  function withNext(url, box) {
    var next = box.getAttribute("data-next");
    return next ? url + "?next=" + encodeURIComponent(next) : url;
  }

  function post(box, url, body) {
    var token = box.querySelector("input[name=csrfmiddlewaretoken]");
    return fetch(withNext(url, box), {
      method: "POST",
      credentials: "same-origin",
      headers: {
        "Content-Type": "application/json",
        "Accept": "application/json",
        "X-CSRFToken": token ? token.value : "",
      },
      body: JSON.stringify(body),
    }).then(function (response) {
      return response.json().catch(function () { return {}; }).then(function (data) {
        if (response.ok) return data;
        if (data.error === "reauthentication_required" && box.getAttribute("data-reauth")) {
          window.location.assign(box.getAttribute("data-reauth") + "?next=" + encodeURIComponent(window.location.pathname));
        } else if (data.error === "login_required" || data.error === "second_factor_required") {
          window.location.reload();
        }
        var error = new Error(data.detail || box.getAttribute("data-text-failed"));
        error.shown = true;
        throw error;
      });
    });
  }

  function say(box, text) {
    var place = box.querySelector("[data-passkey-error]");
    place.textContent = text || "";
    place.hidden = !text;
  }

  function explain(box, error) {
    if (error && error.shown) return error.message;
    if (error && error.name === "InvalidStateError") return box.getAttribute("data-text-known");
    if (error && (error.name === "NotAllowedError" || error.name === "AbortError")) {
      return box.getAttribute("data-text-cancelled");
    }
    return box.getAttribute("data-text-failed");
  }

  function run(box, button) {
    var kind = box.getAttribute("data-passkey");
    var options = box.getAttribute("data-options");
    var answer = box.getAttribute("data-answer");
    var name = box.querySelector("input[name=passkey_name]");
    if (kind === "register" && name && !name.value.trim()) {
      say(box, box.getAttribute("data-text-name"));
      name.focus();
      return;
    }
    say(box, "");
    button.disabled = true;
    post(box, options, {})
      .then(function (data) {
        if (data.redirect) return data;
        var ask = kind === "register"
          ? navigator.credentials.create(creationOptions(data))
          : navigator.credentials.get(requestOptions(data));
        return ask.then(function (credential) {
          var body = { credential: credentialJSON(credential) };
          if (name) body.name = name.value;
          return post(box, answer, body);
        });
      })
      .then(function (data) {
        window.location.assign(data.redirect);
      })
      .catch(function (error) {
        button.disabled = false;
        say(box, explain(box, error));
      });
  }

  function start() {
    var supported = !!(window.PublicKeyCredential && navigator.credentials);
    document.querySelectorAll("[data-passkey]").forEach(function (box) {
      var button = box.querySelector("[data-passkey-start]");
      var missing = box.querySelector("[data-passkey-unsupported]");
      if (missing) missing.hidden = supported;
      if (!supported) return;
      box.querySelectorAll("[data-passkey-needs-script]").forEach(function (node) { node.hidden = false; });
      var form = button.form;
      (form || button).addEventListener(form ? "submit" : "click", function (event) {
        event.preventDefault();
        run(box, button);
      });
    });
  }

  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
