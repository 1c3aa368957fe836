/* vern consent (docs/consent.md). What is allowed always comes from the server, which checks the
   cookie's signature, revision, lifetime and GPC; this script never trusts the cookie itself. */
(function () {
  "use strict";
  var d = document, w = window, me = d.currentScript, ds = (me && me.dataset) || {};
  var base = (ds.origin || "").replace(/\/$/, ""), api = base + (ds.api || "/api/consent/");
  var lang = ds.lang || (d.documentElement.lang === "en" ? "en" : "nb"), revision = +ds.revision || 0, version = +ds.version || 0;
  var gpc = navigator.globalPrivacyControl === true, refuses = (ds.gpcRefuses || "marketing").split(" ");
  var cookies = {}, granted = [], ran = {}, opener, busy;
  (ds.cookies || "").split(";").forEach(function (g) { var p = g.split(":"); if (p[1]) cookies[p[0]] = p[1].split(","); });

  function allow(list) { granted = (list || []).filter(function (c) { return c && !(gpc && refuses.indexOf(c) >= 0); }); }
  function get(c) { return granted.indexOf(c) >= 0; }
  function all(sel, f) { [].forEach.call(d.querySelectorAll(sel), f); }
  function dialog() { return d.getElementById("vc-dialog"); }
  function own() { var m = d.cookie.match(/(?:^|; )vern_consent=([^;]*)/); return m ? decodeURIComponent(m[1]) : ""; }

  function activate() {
    all('script[type="text/plain"][data-consent]', function (old) {
      var c = old.dataset.consent;
      if (!get(c)) return;
      var s = d.createElement("script");
      [].forEach.call(old.attributes, function (a) { if (a.name !== "type" && a.name !== "data-consent") s.setAttribute(a.name, a.value); });
      s.nonce = old.nonce; // the attribute reads empty once loaded; the property keeps the CSP nonce
      s.async = false; // keep the page's order
      s.text = old.text;
      old.replaceWith(s);
      ran[c] = 1;
    });
    all("template[data-consent]", function (t) { if (get(t.dataset.consent)) { ran[t.dataset.consent] = 1; t.replaceWith(t.content.cloneNode(true)); } });
    all("[data-consent-embed]", function (e) { if (get(e.dataset.consentEmbed)) load(e); });
  }
  function load(e) {
    var f = d.createElement("iframe");
    f.src = e.dataset.src; f.title = e.dataset.title || ""; f.loading = "lazy"; f.className = "vc-frame";
    ran[e.dataset.consentEmbed] = 1;
    e.replaceWith(f);
  }
  function expire(c) {
    (cookies[c] || []).forEach(function (spec) {
      var p = spec.split("@"), name = p[0], dom = p[1] ? "; Domain=" + p[1] : "";
      d.cookie.split("; ").forEach(function (kv) {
        var n = kv.split("=")[0];
        if (n === name || (name.slice(-1) === "*" && n.indexOf(name.slice(0, -1)) === 0)) d.cookie = n + "=; Max-Age=0; Path=/; SameSite=Lax" + dom;
      });
    });
  }
  function gcm() {
    if (!ds.gcm || !w.gtag) return;
    var g = function (c) { return get(c) ? "granted" : "denied"; };
    w.gtag("consent", "update", { analytics_storage: g("statistics"), ad_storage: g("marketing"), ad_user_data: g("marketing"),
      ad_personalization: g("marketing"), functionality_storage: g("preferences"), personalization_storage: g("preferences") });
  }
  function clarity() { // Clarity's consent API, from the same choice; a no-op until its tag was allowed to load
    if (!w.clarity) return;
    var g = function (c) { return get(c) ? "granted" : "denied"; };
    w.clarity("consentv2", { analytics_Storage: g("statistics"), ad_Storage: g("marketing") });
  }
  function sync() {
    all('input[name="categories"]', function (i) {
      if (i.dataset.gpc && gpc) { i.checked = false; i.disabled = true; }
      else if (!i.disabled) i.checked = get(i.value);
    });
  }
  function open(from, focus) {
    var dl = dialog();
    if (!dl || !dl.showModal) return false;
    opener = from; sync(); dl.showModal();
    var i = focus && dl.querySelector('[name="categories"][value="' + focus + '"]');
    if (i) i.focus();
    return true;
  }
  function settle(j) {
    if (base) d.cookie = "vern_consent=" + j.cookie + "; Max-Age=" + j.max_age + "; Path=/; SameSite=Lax" + (j.domain ? "; Domain=" + j.domain : "") + (location.protocol === "https:" ? "; Secure" : "");
    allow(j.granted);
    j.refused.forEach(expire);
    var stop = j.refused.some(function (c) { return ran[c]; });
    if (stop) { location.reload(); return; } // scripts that already run stop only with the page
    var b = d.getElementById("vc-banner"), dl = dialog();
    if (b) { if (b.contains(opener)) opener = null; b.remove(); }
    if (dl && dl.open) dl.close();
    all(".vc-receipt", function (r) { // the receipt: consent id and time, as the server recorded them
      r.hidden = false;
      r.querySelector("[data-vc-id]").textContent = j.consent_id;
      r.querySelector("[data-vc-when]").textContent = new Date(j.decided_at).toLocaleString(lang === "en" ? "en-GB" : "nb-NO");
    });
    activate(); gcm(); clarity(); sync();
    d.dispatchEvent(new CustomEvent("vern:consent", { detail: { granted: granted.slice() } }));
  }
  function choose(choice, categories, layer, form, button) {
    if (busy) return;
    busy = 1;
    all(".vc-button", function (b) { b.disabled = true; });
    fetch(api, { method: "POST", credentials: base ? "omit" : "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ choice: choice, categories: categories, revision: revision, version: version, layer: layer, lang: lang,
        path: location.pathname, gpc: gpc, cookie: base ? own() : undefined }) })
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(settle)
      .catch(function () { // the same choice as a plain form post; the server answers with a page
        if (!form || base) return;
        var i = d.createElement("input"); i.type = "hidden"; i.name = "choice"; i.value = button.value;
        form.appendChild(i); form.submit();
      })
      .then(function () { busy = 0; all(".vc-button", function (b) { b.disabled = false; }); });
  }

  d.addEventListener("submit", function (e) {
    var f = e.target, b = e.submitter;
    if (!f.hasAttribute("data-vc-form") || !b || !w.fetch) return;
    e.preventDefault();
    if (b.value === "settings") { open(b); return; }
    var picked = [].map.call(f.querySelectorAll('input[name="categories"]:checked:not(:disabled)'), function (i) { return i.value; });
    choose(b.value === "save" ? "custom" : b.value, picked, f.elements.layer.value, f, b);
  });
  d.addEventListener("click", function (e) {
    var t = e.target.closest && e.target.closest("[data-consent-open],[data-vc-close],[data-consent-load],[data-consent-allow]");
    if (!t) return;
    var embed = t.closest("[data-consent-embed]");
    if (t.hasAttribute("data-vc-close")) dialog().close();
    else if (t.hasAttribute("data-consent-load")) load(embed);
    else if (t.hasAttribute("data-consent-allow")) open(t, embed.dataset.consentEmbed); // the choice is made where all is shown
    else if (open(t)) e.preventDefault();
  });

  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function render(c, policy) { // on another site, which has no server-rendered banner
    var l = d.createElement("link"); l.rel = "stylesheet"; l.href = base + "/static/vern/consent.css"; d.head.appendChild(l);
    var s = c.settings, btn = function (v) { return '<button class="vc-button" name="choice" value="' + v + '">' + esc(c.buttons[v]) + "</button>"; };
    var cats = c.categories.map(function (k) {
      var rows = k.cookies.map(function (x) { return "<tr><td><code>" + esc(x.name) + "</code></td><td>" + esc(x.provider) + "</td><td>" + esc(x.duration) + "</td><td>" + esc(x.purpose) + "</td></tr>"; }).join("");
      return '<div class="vc-category"><p class="vc-row"><input type="checkbox" role="switch" name="categories" id="vc-e-' + k.id + '" value="' + k.id + '"' +
        (k.consent_required ? "" : " checked disabled") + (k.gpc_refused ? ' data-gpc="1"' : "") + '><label for="vc-e-' + k.id + '">' + esc(k.name) +
        '</label></p><p class="vc-about">' + esc(k.description) + "</p>" + (rows ? "<details><summary>" + esc(s.cookies) + " (" + k.cookies.length +
        ')</summary><table class="vc-cookies"><thead><tr><th scope="col">' + esc(s.name) + '</th><th scope="col">' + esc(s.provider) + '</th><th scope="col">' +
        esc(s.duration) + '</th><th scope="col">' + esc(s.purpose) + "</th></tr></thead><tbody>" + rows + "</tbody></table></details>" : "") + "</div>";
    }).join("");
    var form = function (layer, body, buttons) { return '<form class="' + (layer === "banner" ? "vc-inner" : "vc-settings") + '" data-vc-form><input type="hidden" name="layer" value="' + layer + '">' + body + '<div class="vc-buttons">' + buttons + "</div></form>"; };
    var root = d.createElement("div");
    root.innerHTML = (granted.length || own() ? "" : '<div class="vc-banner" id="vc-banner" role="region" aria-labelledby="vc-title">' +
      form("banner", '<div class="vc-text"><h2 id="vc-title">' + esc(c.banner.title) + "</h2><p>" + esc(c.banner.text) + ' <a href="' + esc(policy) + '">' + esc(c.banner.policy) + "</a></p></div>",
        btn("accept_all") + btn("reject_all") + btn("settings")) + "</div>") +
      '<dialog class="vc-dialog" id="vc-dialog" aria-labelledby="vc-dialog-title"><div class="vc-dialog-head"><h2 id="vc-dialog-title">' + esc(s.title) +
      '</h2><button type="button" class="vc-close" data-vc-close aria-label="' + esc(s.close) + '">×</button></div>' +
      form("settings", "<p>" + esc(s.intro) + "</p>" + cats, btn("save") + btn("accept_all") + btn("reject_all")) + "</dialog>";
    while (root.firstChild) d.body.appendChild(root.firstChild);
  }

  function start() {
    var dl = dialog();
    if (dl) dl.addEventListener("close", function () { // back to where the visitor was, or to a control that reopens it
      var to = opener && opener.isConnected ? opener : d.querySelector("[data-consent-open]") || d.getElementById("main");
      if (to && to.focus) to.focus();
    });
    activate(); gcm(); clarity();
  }
  w.vern = w.vern || {};
  w.vern.consent = { get: get, open: function () { return open(d.activeElement); },
    on: function (f) { d.addEventListener("vern:consent", function (e) { f(e.detail); }); } };
  if (base && !dialog()) {
    fetch(base + "/api/consent/config?lang=" + lang + "&cookie=" + encodeURIComponent(own()))
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(function (j) {
        revision = j.content.revision; version = j.version;
        allow(j.choice && j.choice.granted);
        if (!j.choice && own()) d.cookie = "vern_consent=; Max-Age=0; Path=/"; // lapsed or changed: ask again
        render(j.content, j.policy_url); start();
      })
      .catch(function () {}); // without vern, nothing optional runs: the safe side
  } else { allow((ds.granted || "").split(" ")); start(); }
})();
