// The card page's only script. It keeps the page token in memory (never in a
// cookie or storage), sends it as a bearer header on every htmx request,
// refreshes it before it expires, and tells the parent frame (the CRM) the
// card's height, that it is ready, and when the session needs renewing.
(function () {
  "use strict";

  var root = document.getElementById("card");
  var state = document.getElementById("state");
  var holder = root || state;
  var parents = [];
  if (holder && holder.dataset.parentOrigins) {
    parents = holder.dataset.parentOrigins.split(" ").filter(Boolean);
  }

  // Messages go only to the origins allowed to frame us, so no other page
  // ever receives them.
  function tell(type, extra) {
    if (window.parent === window) return;
    var msg = { source: "qwoty", type: type };
    for (var k in extra || {}) msg[k] = extra[k];
    if (parents.length === 0 && type === "session-expired") {
      // An error page that could not name its connection: the page itself
      // is only framed where frame-ancestors allows, and the message
      // carries no data.
      window.parent.postMessage(msg, "*");
      return;
    }
    parents.forEach(function (origin) {
      window.parent.postMessage(msg, origin);
    });
  }

  // A page that is the one automatic retry of an unavailable answer carries
  // this parameter (see retryOnce).
  var RETRY_PARAM = "qwoty_retry";
  // The server's Retry-After for unavailable (a page cannot read the
  // headers it was served with).
  var RETRY_MS = 2000;

  // Qwoty's database was briefly unreachable: say so, and load the page once
  // more after a moment; the retry's own failure stays on screen, with its
  // hint.
  function retryOnce(box) {
    var u = new URL(location.href);
    if (u.searchParams.has(RETRY_PARAM)) return;
    var note = document.createElement("p");
    note.className = "muted";
    note.id = "retrying";
    note.textContent = "Temporarily unavailable, retrying…";
    box.appendChild(note);
    u.searchParams.set(RETRY_PARAM, "1");
    setTimeout(function () {
      location.replace(u.toString());
    }, RETRY_MS);
  }

  // Full-page error states (expired or forged link, database unreachable).
  if (state) {
    if (state.dataset.code === "token_expired") tell("session-expired");
    if (state.dataset.code === "unavailable") retryOnce(state);
    return;
  }
  if (!root) return;

  var meta = document.querySelector('meta[name="qwoty-page-token"]');
  var token = meta ? meta.content : "";
  if (meta) meta.remove();

  // The embed token has done its job: drop it from the address (and the
  // mark of a retry with it).
  if (window.history && window.history.replaceState && /[?&]token=/.test(location.search)) {
    var u = new URL(location.href);
    u.searchParams.delete("token");
    u.searchParams.delete(RETRY_PARAM);
    history.replaceState(null, "", u.pathname + u.search + u.hash);
  }

  var flash = document.getElementById("flash");
  var expiredBox = document.getElementById("expired");

  function expired() {
    token = "";
    if (expiredBox) expiredBox.hidden = false;
    tell("session-expired");
    // A CRM script (pipedrive.js) may renew the card itself.
    document.dispatchEvent(new CustomEvent("qwoty:session-expired"));
  }

  document.body.addEventListener("htmx:configRequest", function (e) {
    e.detail.headers["Authorization"] = "Bearer " + token;
  });
  // Field errors: an error about one field comes back in the flash marked
  // with the field's name (data-field). It is moved under the form's row,
  // tied to the field (aria-invalid, aria-describedby), and read out there.
  var errorSeq = 0;
  function formOf(e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    return elt && elt.closest ? elt.closest("form") : null;
  }
  function clearFieldErrors(form) {
    if (!form) return;
    form.querySelectorAll(".field-error").forEach(function (n) {
      n.remove();
    });
    form.querySelectorAll('[aria-invalid="true"]').forEach(function (f) {
      f.removeAttribute("aria-invalid");
      f.removeAttribute("aria-describedby");
    });
  }
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (flash) flash.textContent = "";
    clearFieldErrors(formOf(e));
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (!flash || e.detail.target !== flash) return;
    var marked = flash.querySelector("[data-field]");
    var form = formOf(e);
    if (!marked || !form) return;
    var field = form.elements.namedItem(marked.getAttribute("data-field"));
    var row = field && field.closest ? field.closest("form > *") : null;
    if (!row) return; // not a field of this form: the flash keeps the message
    var msg = document.createElement("p");
    msg.className = "field-error";
    msg.id = "field-error-" + ++errorSeq;
    msg.setAttribute("role", "alert");
    msg.appendChild(marked);
    var hint = flash.querySelector(".hint");
    if (hint) {
      // Read as two sentences, not run together.
      msg.appendChild(document.createTextNode(/[.!?]$/.test(marked.textContent) ? " " : ". "));
      msg.appendChild(hint);
    }
    flash.textContent = "";
    row.insertAdjacentElement("afterend", msg);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", msg.id);
    var ev = e.detail.requestConfig.triggeringEvent;
    if (ev && ev.type === "submit") field.focus();
  });
  document.body.addEventListener("htmx:responseError", function (e) {
    var xhr = e.detail.xhr;
    if (xhr.status === 401) {
      expired();
      return;
    }
    if (xhr.status === 503 && flash) {
      // The database was briefly unreachable: nothing was changed.
      var id = xhr.getResponseHeader("X-Request-Id") || "";
      flash.textContent =
        "Qwoty is temporarily unavailable. Try again in a few seconds" + (id ? " (request " + id + ")." : ".");
      return;
    }
    if (xhr.status >= 500 && flash) {
      var rid = xhr.getResponseHeader("X-Request-Id") || "";
      flash.textContent = "Something went wrong on our side. Try again" + (rid ? " (request " + rid + ")." : ".");
    }
  });
  document.body.addEventListener("htmx:sendError", function () {
    if (flash) flash.textContent = "The network request failed. Check your connection and try again.";
  });

  // Refresh the page token well before it expires (15 minutes).
  setInterval(function () {
    if (!token) return;
    fetch("/embed/api/session/refresh", { method: "POST", headers: { Authorization: "Bearer " + token } })
      .then(function (r) {
        if (!r.ok) throw new Error("refresh refused: " + r.status);
        return r.json();
      })
      .then(function (j) {
        token = j.token;
      })
      .catch(expired);
  }, 10 * 60 * 1000);

  var lastHeight = 0;
  function sendHeight() {
    var h = Math.ceil(document.documentElement.scrollHeight);
    if (h !== lastHeight) {
      lastHeight = h;
      tell("resize", { height: h });
      document.dispatchEvent(new CustomEvent("qwoty:resize", { detail: h }));
    }
  }
  if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(document.body);
  document.body.addEventListener("htmx:afterSettle", sendHeight);
  sendHeight();
  root.dataset.ready = "true";
  tell("ready");
})();
