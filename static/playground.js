// The dev playground's host page, standing in for the Lightning Web
// Component: it accepts messages only from the app's origin and from its own
// iframe, resizes the frame, and reloads for a fresh card when the session
// expires, as the LWC calls Apex again.
(function () {
  "use strict";
  var frame = document.getElementById("qwoty-frame");
  if (!frame) return;
  var appOrigin = new URL(frame.src).origin;
  window.qwoty = { ready: false, messages: [] };
  window.addEventListener("message", function (e) {
    if (e.origin !== appOrigin || e.source !== frame.contentWindow) return;
    var m = e.data || {};
    if (m.source !== "qwoty") return;
    window.qwoty.messages.push(m.type);
    if (m.type === "ready") window.qwoty.ready = true;
    if (m.type === "resize" && typeof m.height === "number") {
      frame.style.height = Math.max(200, Math.min(2000, m.height)) + "px";
    }
    if (m.type === "session-expired") {
      location.reload();
    }
  });
})();
