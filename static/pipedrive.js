// In Pipedrive's custom panel, the card must greet Pipedrive's app
// extensions SDK (within 10 s, or Pipedrive hides the panel) and size the
// panel to the card. The extension's runtime id comes through the launch
// redirect as pd_id.
(function () {
  "use strict";
  var id = new URLSearchParams(window.location.search).get("pd_id");
  if (!id || !window.AppExtensionsSDK) return;
  var SDK = window.AppExtensionsSDK;
  new SDK({ identifier: id })
    .initialize({ size: { height: 480 } })
    .then(function (sdk) {
      document.addEventListener("qwoty:resize", function (e) {
        // Pipedrive allows custom panels from 100 to 750 px high.
        sdk.execute(SDK.Command.RESIZE, { height: Math.max(100, Math.min(750, e.detail)) });
      });
      document.dispatchEvent(new CustomEvent("qwoty:resize", { detail: document.documentElement.scrollHeight }));
    })
    .catch(function () {
      /* outside Pipedrive (a new tab): nothing to greet */
    });
})();
