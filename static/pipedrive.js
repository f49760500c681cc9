// In Pipedrive's custom panel, the card must greet Pipedrive's app
// extensions SDK (within 10 s, or Pipedrive hides the panel), size the panel
// to the card, and, when the card's session expires, get a signed token from
// the SDK and exchange it at the server for a fresh card. The extension's
// runtime id comes through the launch redirect as pd_id.
(function () {
  "use strict";
  // pd_id on the card (after the launch redirect); id on a refused launch's
  // error page, which must greet the SDK too or Pipedrive hides the panel.
  var params = new URLSearchParams(window.location.search);
  var id = params.get("pd_id") || params.get("id");
  var card = document.getElementById("card");
  if (!id || !window.AppExtensionsSDK) return;
  var SDK = window.AppExtensionsSDK;
  new SDK({ identifier: id })
    .initialize({ size: { height: 480 } })
    .then(function (sdk) {
      document.addEventListener("qwoty:resize", function (e) {
        // Pipedrive allows custom panels from 100 to 750 px high.
        sdk.execute(SDK.Command.RESIZE, { height: Math.max(100, Math.min(750, e.detail)) });
      });
      document.dispatchEvent(
        new CustomEvent("qwoty:resize", { detail: Math.ceil(document.documentElement.getBoundingClientRect().height) }),
      );
      if (!card) return;
      document.addEventListener("qwoty:session-expired", function () {
        sdk
          .execute(SDK.Command.GET_SIGNED_TOKEN)
          .then(function (r) {
            var q = new URLSearchParams({ resource: "deal", view: "details", selectedIds: card.dataset.recordId, token: r.token });
            return exchange(q.toString(), false);
          })
          .then(function (j) {
            window.location.replace(j.embedUrl + "&pd_id=" + encodeURIComponent(id));
          })
          .catch(function () {
            /* the expired overlay stays: reloading the deal opens a new card */
          });
      });
    })
    .catch(function () {
      /* outside Pipedrive (a new tab): nothing to greet */
    });

  // Qwoty's wait before retrying an unavailable answer: its Retry-After in
  // seconds, kept within 1 to 5 s (2 s without one).
  function retryDelay(header) {
    var s = /^[0-9]+$/.test(header || "") ? Number(header) : 2;
    return Math.min(5, Math.max(1, s)) * 1000;
  }

  // Shows a line under the expired card's notice.
  function say(text) {
    var box = document.querySelector("#expired .state");
    if (!box) return;
    var p = document.getElementById("renewing") || box.appendChild(document.createElement("p"));
    p.id = "renewing";
    p.className = "muted";
    p.textContent = text;
  }

  // Exchanges the SDK's token for a fresh card. When Qwoty's database was
  // briefly unreachable (503 unavailable), it says so and tries once more
  // after Qwoty's Retry-After; a second failure shows Qwoty's message and
  // hint.
  function exchange(query, retried) {
    return fetch("/embed/pipedrive/session?" + query, { method: "POST" }).then(function (res) {
      if (res.ok) return res.json();
      return res
        .json()
        .catch(function () {
          return {};
        })
        .then(function (body) {
          var e = (body && body.error) || {};
          if (res.status === 503 && e.code === "unavailable" && !retried) {
            say("Qwoty is temporarily unavailable, retrying…");
            return new Promise(function (resolve) {
              setTimeout(resolve, retryDelay(res.headers.get("Retry-After")));
            }).then(function () {
              return exchange(query, true);
            });
          }
          if (e.message) say(e.message.replace(/\.?$/, ".") + (e.hint ? " " + e.hint : ""));
          throw new Error("exchange refused: " + res.status);
        });
    });
  }
})();
