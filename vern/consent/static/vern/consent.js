/* vern consent: the banner's buttons without a page load, scripts and embeds activated as the
   visitor allows, and a small API: vern.consent.get("statistics"), .open(), .on(fn).
   On another site: <script src="https://vern.example/static/vern/consent.js" data-origin="https://vern.example" defer>. */
(function () {
  "use strict";
  var d = document, w = window, me = d.currentScript, ds = (me && me.dataset) || {};
  var base = (ds.origin || "").replace(/\/$/, ""), api = base + (ds.api || "/api/consent/");
  var lang = ds.lang || (d.documentElement.lang === "en" ? "en" : "nb"), revision = +ds.revision || 0;
  var cookies = {}, state, opener;
  (ds.cookies || "").split(";").forEach(function (g) { var p = g.split(":"); if (p[1]) cookies[p[0]] = p[1].split(","); });

  function read() {
    var m = d.cookie.match(/(?:^|; )vern_consent=([^;]*)/), p = m ? decodeURIComponent(m[1]).split(".") : [];
    return p.length === 6 && +p[2] === revision ? { id: p[1], granted: p[3] ? p[3].split("-") : [] } : null;
  }
  function get(c) { return !!state && state.granted.indexOf(c) >= 0; }
  function all(sel, f) { [].forEach.call(d.querySelectorAll(sel), f); }
  function dialog() { return d.getElementById("vc-dialog"); }

  function activate() {
    all('script[type="text/plain"][data-consent]', function (old) {
      if (!get(old.dataset.consent)) return;
      var s = d.createElement("script");
      [].forEach.call(old.attributes, function (a) { if (a.name !== "type" && a.name !== "data-consent") s.setAttribute(a.name, a.value); });
      s.nonce = old.nonce; // the attribute reads empty once loaded; the property keeps the CSP nonce
      s.text = old.text;
      old.replaceWith(s);
    });
    all("template[data-consent]", function (t) { if (get(t.dataset.consent)) t.replaceWith(t.content.cloneNode(true)); });
    all("[data-consent-embed]", function (e) { if (get(e.dataset.consentEmbed)) load(e); });
  }
  function load(e) {
    var f = d.createElement("iframe");
    f.src = e.dataset.src; f.title = e.dataset.title || ""; f.loading = "lazy"; f.className = "vc-frame";
    e.replaceWith(f);
  }
  function expire(c) { (cookies[c] || []).forEach(function (n) { d.cookie = n + "=; Max-Age=0; Path=/; SameSite=Lax"; }); }
  function gcm() {
    if (!ds.gcm || !w.gtag) return;
    var g = function (c) { return get(c) ? "granted" : "denied"; };
    w.gtag("consent", "update", { analytics_storage: g("statistics"), ad_storage: g("marketing"), ad_user_data: g("marketing"),
      ad_personalization: g("marketing"), functionality_storage: g("preferences"), personalization_storage: g("preferences") });
  }
  function sync() {
    all('input[name="categories"]', function (i) {
      if (i.dataset.gpc && navigator.globalPrivacyControl === true) { i.checked = false; i.disabled = true; }
      else if (!i.disabled) i.checked = get(i.value);
    });
  }
  function open(from) {
    var dl = dialog();
    if (!dl || !dl.showModal) return false;
    opener = from; sync(); dl.showModal();
    return true;
  }
  function settle(j) {
    if (base) d.cookie = "vern_consent=" + j.cookie + "; Max-Age=" + j.max_age + "; Path=/; SameSite=Lax" + (location.protocol === "https:" ? "; Secure" : "");
    state = { id: j.consent_id, granted: j.granted };
    j.refused.forEach(expire);
    var b = d.getElementById("vc-banner"), dl = dialog();
    if (b) b.remove();
    all(".vc-spacer", function (s) { s.remove(); });
    if (dl && dl.open) dl.close();
    all(".vc-receipt", function (r) { // the receipt: consent id and time, as the server records them
      r.hidden = false;
      r.querySelector("[data-vc-id]").textContent = j.consent_id;
      r.querySelector("[data-vc-when]").textContent = new Date(j.decided_at).toLocaleString(lang === "en" ? "en-GB" : "nb-NO");
    });
    activate(); gcm(); sync();
    d.dispatchEvent(new CustomEvent("vern:consent", { detail: { granted: state.granted.slice() } }));
  }
  function choose(choice, categories, layer, form, button) {
    return fetch(api, { method: "POST", credentials: base ? "omit" : "same-origin", headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ choice: choice, categories: categories, revision: revision, layer: layer, lang: lang,
        path: location.pathname, gpc: navigator.globalPrivacyControl === true }) })
      .then(function (r) { if (!r.ok) throw r; return r.json(); })
      .then(settle)
      .catch(function () { // the same choice as a plain form post; the server answers with a page
        if (!form || base) return;
        var i = d.createElement("input"); i.type = "hidden"; i.name = "choice"; i.value = button.value;
        form.appendChild(i); form.submit();
      });
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
    else if (t.hasAttribute("data-consent-allow")) choose("custom", (state ? state.granted : []).concat(embed.dataset.consentEmbed), "api");
    else if (open(t)) e.preventDefault();
  });

  function esc(s) { return String(s).replace(/[&<>"]/g, function (c) { return "&#" + c.charCodeAt(0) + ";"; }); }
  function render(c) { // on another site, which has no server-rendered banner
    var l = d.createElement("link"); l.rel = "stylesheet"; l.href = base + "/static/vern/consent.css"; d.head.appendChild(l);
    var btn = function (v) { return '<button class="vc-button" name="choice" value="' + v + '">' + esc(c.buttons[v === "save" ? "save" : v]) + "</button>"; };
    var cats = c.categories.map(function (k) {
      return '<div class="vc-category"><p class="vc-row"><input type="checkbox" role="switch" name="categories" id="vc-e-' + k.id + '" value="' + k.id + '"' +
        (k.consent_required ? "" : " checked disabled") + (k.gpc_refused ? ' data-gpc="1"' : "") + '><label for="vc-e-' + k.id + '">' + esc(k.name) +
        "</label></p><p class=\"vc-about\">" + esc(k.description) + "</p></div>";
    }).join("");
    var form = function (layer, body, buttons) { return '<form class="' + (layer === "banner" ? "vc-inner" : "vc-settings") + '" data-vc-form><input type="hidden" name="layer" value="' + layer + '">' + body + '<div class="vc-buttons">' + buttons + "</div></form>"; };
    var root = d.createElement("div");
    root.innerHTML = (state ? "" : '<div class="vc-banner" id="vc-banner" role="region" aria-labelledby="vc-title">' +
      form("banner", '<div class="vc-text"><h2 id="vc-title">' + esc(c.banner.title) + "</h2><p>" + esc(c.banner.text) + "</p></div>", btn("accept_all") + btn("reject_all") + btn("settings")) + "</div>") +
      '<dialog class="vc-dialog" id="vc-dialog" aria-labelledby="vc-dialog-title"><div class="vc-dialog-head"><h2 id="vc-dialog-title">' + esc(c.settings.title) +
      '</h2><button type="button" class="vc-close" data-vc-close aria-label="' + esc(c.settings.close) + '">×</button></div>' +
      form("settings", "<p>" + esc(c.settings.intro) + "</p>" + cats, btn("save") + btn("accept_all") + btn("reject_all")) + "</dialog>";
    while (root.firstChild) d.body.appendChild(root.firstChild);
  }

  function start() {
    state = read();
    var dl = dialog();
    if (dl) dl.addEventListener("close", function () { if (opener && opener.focus) opener.focus(); });
    activate(); gcm();
  }
  w.vern = w.vern || {};
  w.vern.consent = { get: get, open: function () { return open(d.activeElement); },
    on: function (f) { d.addEventListener("vern:consent", function (e) { f(e.detail); }); } };
  if (base && !dialog()) {
    fetch(base + "/api/consent/config?lang=" + lang).then(function (r) { return r.json(); })
      .then(function (j) { revision = j.content.revision; state = read(); render(j.content); start(); });
  } else start();
})();
