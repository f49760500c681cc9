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

  // Messages go only to the origin of the page that frames us, when the
  // browser names it (location.ancestorOrigins, Chromium and Safari) or the
  // referrer does, and it is one allowed to frame us: posting to each
  // allowed origin would make the browser warn once per origin that does
  // not match. Without either, each allowed origin is tried (only the one
  // that matches receives it).
  function targets() {
    var anc = window.location.ancestorOrigins;
    if (anc && anc.length > 0) return parents.indexOf(anc[0]) >= 0 ? [anc[0]] : [];
    if (document.referrer) {
      try {
        var o = new URL(document.referrer).origin;
        if (parents.indexOf(o) >= 0) return [o];
      } catch (err) {
        /* no usable referrer */
      }
    }
    return parents;
  }

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
    targets().forEach(function (origin) {
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

  // A download (the quote's PDF) is fetched with the page token, which a
  // plain link cannot carry, and saved from the answer.
  document.body.addEventListener("click", function (e) {
    var a = e.target.closest && e.target.closest("a[data-download]");
    var close = e.target.closest && e.target.closest("[data-close]");
    if (close) {
      var box = document.getElementById(close.dataset.close);
      if (box) box.innerHTML = "";
      return;
    }
    if (!a) return;
    e.preventDefault();
    fetch(a.getAttribute("href"), { headers: { Authorization: "Bearer " + token }, credentials: "omit" }).then(function (r) {
      if (r.status === 401) { expired(); throw new Error("expired"); }
      if (!r.ok) throw new Error("status " + r.status);
      return r.blob();
    }).then(function (b) {
      var url = URL.createObjectURL(b);
      var save = document.createElement("a");
      save.href = url;
      save.download = a.dataset.download || "quote.pdf";
      document.body.appendChild(save);
      save.click();
      save.remove();
      a.dataset.downloaded = "true";
      setTimeout(function () { URL.revokeObjectURL(url); }, 10000);
    }).catch(function (err) {
      if (flash && String(err.message) !== "expired") flash.textContent = "The PDF could not be downloaded (" + err.message + "). Try again.";
    });
  });
  var main = document.getElementById("main");
  function byId(id) {
    return id ? document.getElementById(id) : null;
  }

  // One request at a time. Every save answers with the whole editor at the
  // quote's new version, so a second edit sent before the first came back
  // would carry the old version and be refused as a conflict. An action
  // taken meanwhile (a field left, a button pressed) is remembered by its
  // element's id and done once the editor is back, on the new element,
  // which carries the new version.
  var inFlight = false;
  var queue = [];
  // The catalogue search, the versions panel (loaded with the editor), its
  // comparison, and the quote's history (data-read) are reads that change
  // nothing and swap only their own part: they neither wait for a save nor
  // hold one up.
  var reads = { "catalog-q": true, "versions": true, "compare": true };
  function isSearch(e) {
    var elt = e.detail && (e.detail.elt || (e.detail.requestConfig && e.detail.requestConfig.elt));
    return !!elt && (reads[elt.id] === true || (elt.hasAttribute && elt.hasAttribute("data-read")));
  }
  document.body.addEventListener("htmx:confirm", function (e) {
    if (!inFlight || isSearch(e)) return;
    e.preventDefault();
    var elt = e.detail.elt;
    var ev = e.detail.triggeringEvent;
    var item = { id: elt && elt.id, type: ev && ev.type === "submit" ? "submit" : ev && ev.type === "change" ? "change" : "click" };
    if (!item.id) {
      // No element to find again (htmx.ajax's Reload, an anonymous form):
      // keep htmx's own way to send this very request later.
      if (e.detail.issueRequest) queue.push({ issue: e.detail.issueRequest });
      return;
    }
    for (var i = 0; i < queue.length; i++) if (queue[i].id === item.id && queue[i].type === item.type) return;
    queue.push(item);
  });
  document.body.addEventListener("htmx:beforeRequest", function (e) {
    if (isSearch(e)) return;
    inFlight = true;
    if (flash) flash.textContent = "";
    clearFieldErrors(formOf(e));
  });
  document.body.addEventListener("htmx:afterRequest", function (e) {
    if (isSearch(e)) return;
    inFlight = false;
    setTimeout(next, 0);
  });
  function next() {
    while (!inFlight && queue.length > 0) {
      var item = queue.shift();
      if (item.issue) {
        item.issue(true);
        continue;
      }
      var el = byId(item.id);
      if (!el || el.disabled) continue;
      if (item.type === "click") el.click();
      else el.dispatchEvent(new Event(item.type, { bubbles: true, cancelable: true }));
    }
  }

  // The rep's place across a swap of the editor: what they were typing and
  // had not saved yet is put back in the new editor's field of the same id,
  // with the focus and the caret. A value typed in a field already left is
  // saved (its form sent again); the field being typed in is saved when it
  // is left, as before.
  // A large quote's saved line comes back alone, in place of its form
  // (the server's PartialFrom): the same holds within that form.
  var carried = null;
  document.body.addEventListener("htmx:beforeSwap", function (e) {
    carried = null;
    var target = e.detail.target;
    var partial = !!(target && target !== main && target.matches && target.matches("form.line"));
    if ((target !== main && !partial) || !e.detail.shouldSwap) return;
    var cfg = e.detail.requestConfig || {};
    var sentForm = cfg.elt && cfg.elt.closest ? cfg.elt.closest("form") : null;
    var params = cfg.parameters || {};
    var a = document.activeElement;
    carried = { verb: cfg.verb, elt: cfg.elt, values: {}, focus: null, removed: null, partial: partial };
    if (a && a !== document.body && main.contains(a) && a.id) {
      carried.focus = { id: a.id, start: null, end: null };
      try {
        carried.focus.start = a.selectionStart;
        carried.focus.end = a.selectionEnd;
      } catch (err) {
        /* not a text field */
      }
    }
    if (cfg.verb === "delete" && cfg.elt) {
      var rows = Array.prototype.slice.call(main.querySelectorAll("#lines .line"));
      carried.removed = rows.indexOf(cfg.elt.closest(".line"));
    }
    if (cfg.verb === "get") return; // another view, or a reload: what it shows wins
    (partial ? target : main).querySelectorAll("input[id]").forEach(function (inp) {
      // A hidden input's value is its default: the catalogue product
      // picked for the new line is carried whatever it is.
      if (inp.type !== "hidden" && inp.value === inp.defaultValue) return; // as saved
      if (sentForm && inp.form === sentForm && String(params[inp.name]) === inp.value) return; // just saved
      carried.values[inp.id] = inp.value;
    });
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (e.detail.target === flash) {
      // A message not about a field (a conflict, a locked quote) is at the
      // top: bring it into view when the rep is further down the card.
      if (!fieldError(e) && flash.scrollIntoView) flash.scrollIntoView({ block: "nearest" });
      return;
    }
    if (!carried || (!carried.partial && e.detail.target !== main)) return;
    var c = carried;
    carried = null;
    var focusEl = c.focus ? byId(c.focus.id) : null;
    Object.keys(c.values).forEach(function (id) {
      var el = byId(id);
      if (!el || el.disabled || el.value === c.values[id]) return;
      el.value = c.values[id];
      if (el === focusEl) {
        el.dataset.unsaved = "true";
      } else if (el.form && el.form.id && el.form.id !== "add-line") {
        queue.push({ id: el.form.id, type: "change" });
      }
    });
    var then = null;
    if (c.elt && c.elt.id === "add-line") then = byId("new-sku"); // the next line starts there
    else if (c.removed !== null && c.removed >= 0) {
      var rows = main.querySelectorAll("#lines .line");
      var row = rows[Math.min(c.removed, rows.length - 1)];
      then = (row && row.querySelector(".remove")) || byId("new-sku");
    } else if (c.verb === "get" && c.elt && c.elt.id === "back" && c.elt.closest) {
      var ed = c.elt.closest("#editor");
      then = ed ? byId("open-" + ed.dataset.quoteId) : null;
    } else if (c.elt && c.elt.dataset && c.elt.dataset.then && byId(c.elt.dataset.then)) {
      // A list action whose button goes away (Make primary, Retry) leaves
      // the rep on its quote.
      then = byId(c.elt.dataset.then);
    } else if (focusEl) then = focusEl;
    if (!then || then.disabled) then = byId("quote-heading") || byId("list-heading") || byId("new-quote");
    if (then) {
      then.focus();
      if (then === focusEl && c.focus.start !== null && then.setSelectionRange) {
        try {
          then.setSelectionRange(c.focus.start, c.focus.end);
        } catch (err) {
          /* not a text field */
        }
      }
    }
  });
  // A large quote's lines are rows, each opened for editing by its Edit
  // button (the server's lineRow): a click anywhere on a row opens it, and
  // the opened form takes the focus at its first field.
  main.addEventListener("click", function (e) {
    var row = e.target.closest && e.target.closest(".line.ro");
    if (!row || e.target.closest("button")) return;
    var open = row.querySelector(".edit-line");
    if (open) open.click();
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    var elt = e.detail.requestConfig && e.detail.requestConfig.elt;
    if (!elt || !elt.classList || !elt.classList.contains("edit-line")) return;
    var first = byId("l-" + elt.id.slice("edit-".length) + "-sku");
    if (first) first.focus();
  });
  // The quote's new version comes in a header with a line swapped alone:
  // every form of the editor sends it next.
  document.body.addEventListener("htmx:afterRequest", function (e) {
    var xhr = e.detail.xhr;
    var v = xhr && xhr.getResponseHeader ? xhr.getResponseHeader("X-Quote-Version") : null;
    var ed = byId("editor");
    if (!v || !ed) return;
    ed.setAttribute("hx-vals", JSON.stringify({ version: v }));
    ed.dataset.version = v;
  });
  // A value put back after a swap was typed by the rep, not by a script:
  // leaving the field saves it, as leaving it after typing would have.
  main.addEventListener("change", function (e) {
    if (e.target && e.target.dataset) delete e.target.dataset.unsaved;
  });
  main.addEventListener("focusout", function (e) {
    var el = e.target;
    if (!el || !el.dataset || !el.dataset.unsaved) return;
    delete el.dataset.unsaved;
    if (el.value !== el.defaultValue) el.dispatchEvent(new Event("change", { bubbles: true }));
  });

  // The catalogue search of the add-line form. Picking a product fills the
  // line (SKU, description, unit price in the quote's currency) and keeps
  // its CRM id in the form; the rep may still change the quantity, the
  // price or the discount before adding it, or make it a free line. Keys:
  // ↓ from the search goes into the list, ↑/↓ move in it, Enter picks
  // (the first product, from the search box), Escape closes the list.
  function catalogItems() {
    return Array.prototype.slice.call(main.querySelectorAll("#catalog-results .cat-item"));
  }
  function closeCatalog(focusSearch) {
    var box = byId("catalog-results");
    if (box) box.textContent = "";
    var q = byId("catalog-q");
    if (q) {
      q.setAttribute("aria-expanded", "false");
      if (focusSearch) q.focus();
    }
  }
  function pick(btn) {
    var set = function (id, v) {
      var el = byId(id);
      if (el) el.value = v;
    };
    set("new-sku", btn.dataset.sku || "");
    set("new-description", btn.dataset.name || "");
    set("new-unit_price", btn.dataset.price || "");
    set("new-product_id", btn.dataset.product || "");
    var q = byId("catalog-q");
    if (q) q.value = "";
    var picked = byId("catalog-picked");
    var text = byId("catalog-picked-text");
    if (text) text.textContent = "From the catalogue: " + (btn.dataset.sku ? btn.dataset.sku + " · " : "") + (btn.dataset.name || "");
    if (picked) picked.hidden = false;
    closeCatalog(false);
    var qty = byId("new-quantity");
    if (qty) {
      qty.focus();
      if (qty.select) qty.select();
    }
  }
  main.addEventListener("click", function (e) {
    var btn = e.target.closest && e.target.closest(".cat-item");
    if (btn) {
      pick(btn);
      return;
    }
    if (e.target.id === "catalog-unpick") {
      var pid = byId("new-product_id");
      if (pid) pid.value = "";
      var picked = byId("catalog-picked");
      if (picked) picked.hidden = true;
      var sku = byId("new-sku");
      if (sku) sku.focus();
    }
  });
  main.addEventListener("keydown", function (e) {
    var t = e.target;
    if (t.id === "catalog-q") {
      var items = catalogItems();
      if (e.key === "ArrowDown" && items.length > 0) {
        e.preventDefault();
        items[0].focus();
      } else if (e.key === "Enter") {
        // Enter in the search picks; it never submits the line half-filled.
        e.preventDefault();
        if (items.length > 0) pick(items[0]);
      } else if (e.key === "Escape") {
        closeCatalog(true);
      }
      return;
    }
    if (!t.classList || !t.classList.contains("cat-item")) return;
    var list = catalogItems();
    var i = list.indexOf(t);
    if (e.key === "ArrowDown") {
      e.preventDefault();
      if (i + 1 < list.length) list[i + 1].focus();
    } else if (e.key === "ArrowUp") {
      e.preventDefault();
      if (i > 0) list[i - 1].focus();
      else byId("catalog-q").focus();
    } else if (e.key === "Escape") {
      closeCatalog(true);
    }
  });
  document.body.addEventListener("htmx:afterSwap", function (e) {
    if (!e.detail.target || e.detail.target.id !== "catalog-results") return;
    var q = byId("catalog-q");
    if (q) q.setAttribute("aria-expanded", catalogItems().length > 0 ? "true" : "false");
  });

  // Field errors: an error about one field comes back in the flash marked
  // with the field's name (data-field). It is moved to the end of the
  // field's form, tied to the field (aria-invalid, aria-describedby), and
  // read out there. The field keeps what the rep typed, so a typo is fixed
  // in place, and offers the saved value back. Until it is fixed or
  // restored, the line's amount and the totals say they are the last saved
  // figures: they do not include the refused value, and the card does not
  // compute figures of its own (the server's are the only ones).
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
    markStale();
  }
  function markStale() {
    if (!main) return;
    var any = false;
    main.querySelectorAll("form.line, form.terms").forEach(function (form) {
      var bad = !!form.querySelector('[aria-invalid="true"]');
      any = any || bad;
      var box = form.querySelector(".f-amount");
      var tag = box && box.querySelector(".stale-tag");
      if (bad && box && !tag) {
        tag = document.createElement("span");
        tag.className = "stale-tag";
        tag.textContent = "last saved amount";
        box.appendChild(tag);
      } else if (!bad && tag) tag.remove();
    });
    var totals = byId("totals");
    var note = byId("stale-note");
    if (totals) totals.classList.toggle("stale", any);
    if (note) note.hidden = !any;
  }
  function fieldError(e) {
    var marked = flash.querySelector("[data-field]");
    var form = formOf(e);
    if (!marked || !form || !form.isConnected) return false;
    var field = form.elements.namedItem(marked.getAttribute("data-field"));
    if (!field || !field.focus) return false; // not a field of this form: the flash keeps the message
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
    if (form.id !== "add-line" && field.defaultValue !== field.value) {
      var restore = document.createElement("button");
      restore.type = "button";
      restore.className = "btn small restore";
      restore.textContent = field.defaultValue === "" ? "Restore the saved value (empty)" : "Restore " + field.defaultValue;
      restore.addEventListener("click", function () {
        field.value = field.defaultValue;
        clearFieldErrors(form);
        field.focus();
      });
      msg.appendChild(restore);
    }
    flash.textContent = "";
    form.appendChild(msg);
    field.setAttribute("aria-invalid", "true");
    field.setAttribute("aria-describedby", msg.id);
    markStale();
    var ev = e.detail.requestConfig.triggeringEvent;
    if (ev && ev.type === "submit") field.focus();
    return true;
  }

  // A version conflict offers to reload the quote (what is saved now).
  if (flash) {
    flash.addEventListener("click", function (e) {
      if (!e.target.closest || !e.target.closest("[data-reload]")) return;
      var ed = byId("editor");
      var id = ed && ed.dataset.quoteId;
      window.htmx.ajax("GET", "/embed/api/quotes" + (id ? "/" + id : ""), { target: "#main", source: ed || main });
    });
  }
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

  // The content's own height, which shrinks as well as grows: the root's
  // scrollHeight is never less than the frame's height, so a frame sized
  // by it would never get smaller again.
  var lastHeight = 0;
  function sendHeight() {
    var h = Math.ceil(document.documentElement.getBoundingClientRect().height);
    if (h !== lastHeight) {
      lastHeight = h;
      tell("resize", { height: h });
      document.dispatchEvent(new CustomEvent("qwoty:resize", { detail: h }));
    }
  }
  // The first size comes from the observer, after the browser's own first
  // layout: measuring here would force that layout inside this script's
  // task, one long task instead of two short ones on a slow phone.
  if (window.ResizeObserver) new ResizeObserver(sendHeight).observe(document.documentElement);
  else requestAnimationFrame(sendHeight);
  document.body.addEventListener("htmx:afterSettle", sendHeight);
  root.dataset.ready = "true";
  tell("ready");
})();
