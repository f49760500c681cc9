// The customer's page of a quote (/q/{token}): reports that a person
// viewed it. Only a page that runs shows here: a link preview, a mail
// scanner or a prefetch fetches the HTML and runs nothing, so the quote is
// marked viewed only by a real view (docs/customer-page.md). A prerendered
// page waits until it is shown.
(function () {
  "use strict";
  var root = document.getElementById("customer-page");
  if (!root) return;
  var sent = false;
  function seen() {
    if (sent || document.visibilityState === "hidden") return;
    sent = true;
    var body = new URLSearchParams();
    body.set("form_token", root.dataset.token || "");
    fetch(root.dataset.seen, {
      method: "POST",
      body: body,
      credentials: "omit",
      cache: "no-store",
      keepalive: true
    }).then(function (r) {
      root.dataset.seenStatus = String(r.status);
    }, function () {
      sent = false;
    });
  }
  if (document.prerendering) {
    document.addEventListener("prerenderingchange", seen, { once: true });
  } else if (document.visibilityState === "hidden") {
    document.addEventListener("visibilitychange", seen);
  } else {
    seen();
  }
})();
