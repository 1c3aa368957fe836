/* vern analytics beacon: one page view, then the time the page was really looked at.
   No cookie, no storage, no identifier is made here; the server decides what it keeps.
   Sent with navigator.sendBeacon as text/plain, so it needs no CORS preflight. */
(function () {
  "use strict";
  var d = document, script = d.currentScript, endpoint = script && script.getAttribute("data-endpoint");
  if (!endpoint || navigator.webdriver) return;
  var page = location.pathname + location.search, shown = 0, since = d.visibilityState === "visible" ? Date.now() : 0;

  function send(body) {
    var data = JSON.stringify(body);
    if (navigator.sendBeacon && navigator.sendBeacon(endpoint, new Blob([data], { type: "text/plain" }))) return;
    if (window.fetch) fetch(endpoint, { method: "POST", body: data, keepalive: true, credentials: "same-origin" }).catch(function () {});
  }
  function pause() {
    if (since) { shown += Date.now() - since; since = 0; }
  }
  function report() {
    pause();
    if (shown > 0) send({ k: "e", u: page, e: Math.min(shown, 1800000) });
    shown = 0;
    if (d.visibilityState === "visible") since = Date.now();
  }
  send({ k: "v", u: page, r: d.referrer });
  d.addEventListener("visibilitychange", function () {
    if (d.visibilityState === "hidden") report(); else since = Date.now();
  });
  addEventListener("pagehide", report);
  // A link to another page of the site: report now, while the page is alive, since a beacon
  // sent while a page unloads is not always delivered.
  // An element with data-vern-goal: a click on it (or inside it) counts that goal once.
  d.addEventListener("click", function (e) {
    var c = e.target.closest, link = c && e.target.closest("a[href]"), goal = c && e.target.closest("[data-vern-goal]");
    if (goal) send({ k: "g", u: page, g: goal.getAttribute("data-vern-goal") });
    if (link && link.origin === location.origin && link.pathname !== location.pathname) report();
  }, true);
})();
