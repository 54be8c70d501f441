// The dashboard's stylesheet and script, served as static files so its Content-Security-Policy forbids inline code.

export const DASHBOARD_CSS = `
:root{--ink:#1d2430;--muted:#647083;--line:#dde2ea;--soft:#f4f6fa;--accent:#1a56db;--ok:#137333;--bad:#b3261e;--warn:#8a6100}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--soft)}
header.top{display:flex;flex-wrap:wrap;gap:.4rem 1.2rem;align-items:baseline;padding:.7rem 1.5rem;background:#fff;border-bottom:1px solid var(--line)}
header.top h1{font-size:1.15rem;margin:0}
main{max-width:80rem;margin:0 auto;padding:1rem 1.5rem 3rem}
h2{font-size:1.05rem;margin:1.4rem 0 .6rem}
a{color:var(--accent)}
code,pre{font:12px/1.4 ui-monospace,SFMono-Regular,Menlo,Consolas,monospace}
pre{white-space:pre-wrap;word-break:break-all;background:var(--soft);padding:.4rem .6rem;border-radius:4px;margin:.3rem 0}
.muted{color:var(--muted)}
.live{font-weight:600;color:var(--muted)}.live[data-live="true"]{color:var(--ok)}
#notice{min-height:1.4em;margin:.6rem 0}
#notice.error{color:var(--bad)}
.card{background:#fff;border:1px solid var(--line);border-radius:8px;padding:.8rem 1rem;margin-bottom:.8rem}
.card>h2:first-child{margin-top:0}
.order>header{display:flex;flex-wrap:wrap;gap:.3rem 1rem;align-items:baseline}
.order h3{font-size:1rem;margin:0}
dl.meta{display:flex;flex-wrap:wrap;gap:.2rem 1.2rem;margin:.5rem 0}
dl.meta div{display:flex;gap:.35rem}
dl.meta dt{color:var(--muted)}dl.meta dd{margin:0;word-break:break-all}
form.actions,form.test-ipn,form.filter{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.5rem 0}
nav.pager{display:flex;gap:1.2rem;margin:.8rem 0}
label{display:inline-flex;gap:.3rem;align-items:center}
input,select,button{font:inherit}
input[type=url]{min-width:18rem}
button{padding:.2rem .7rem;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:#fff;cursor:pointer}
button.secondary{background:#fff;color:var(--accent)}
button:disabled{opacity:.5;cursor:default}
.status{display:inline-block;padding:0 .5rem;border-radius:999px;background:#e8eefc;color:var(--accent);font-weight:600}
ol.timeline{list-style:none;margin:.4rem 0 0;padding:0;border-top:1px solid var(--line)}
ol.timeline>li{padding:.35rem 0;border-bottom:1px solid var(--line)}
.row{display:flex;flex-wrap:wrap;gap:.2rem .8rem;align-items:baseline}
.row time{color:var(--muted);font-variant-numeric:tabular-nums;min-width:6.5rem}
.kind{font-weight:600;min-width:3.2rem}
.outcome{font-weight:600}
.outcome.accepted{color:var(--ok)}
.outcome.rejected,.outcome.error,.outcome.timeout{color:var(--bad)}
.outcome.dropped,.outcome.pending,.outcome.held{color:var(--warn)}
details{margin:.25rem 0 0 7.3rem}
details summary{cursor:pointer;color:var(--muted)}
table.fields{border-collapse:collapse;margin:.3rem 0}
table.fields td,table.fields th{border:1px solid var(--line);padding:.1rem .45rem;text-align:left;vertical-align:top}
table.fields th{background:var(--soft);font-weight:600}
table.orders{width:100%;border-collapse:collapse;background:#fff;border:1px solid var(--line)}
table.orders th,table.orders td{padding:.3rem .5rem;text-align:left;vertical-align:middle;border-top:1px solid var(--line)}
table.orders thead th{background:var(--soft);color:var(--muted);font-weight:600;border-top:0;white-space:nowrap}
table.orders tbody>tr:first-child>th,table.orders time,table.orders .status{white-space:nowrap}
table.orders tr.more>td{border-top:0;padding-top:0}
table.orders tr.more>td>details{margin:0}
table.orders form.actions{margin:0;gap:.3rem}
table.orders select{max-width:9rem}
a.button{display:inline-block;padding:.2rem .7rem;border:1px solid var(--accent);border-radius:6px;background:var(--accent);color:#fff;text-decoration:none}
a.button.secondary{background:#fff;color:var(--accent)}
p.signed{margin:.1rem 0 0 7.3rem;word-break:break-all}
form.doctor{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center;margin:.4rem 0}
.diagnosis{border-left:3px solid var(--line);padding:.1rem .7rem;margin:.4rem 0}
.diagnosis .verdict{font-weight:600}.diagnosis .verdict.ok{color:var(--ok)}.diagnosis .verdict.bad{color:var(--bad)}
dl.strings{margin:.3rem 0}dl.strings div{display:flex;gap:.5rem}dl.strings dt{min-width:6.5rem;color:var(--muted)}dl.strings dd{margin:0;word-break:break-all}
.offscreen{position:fixed;left:-10000px;top:0;opacity:0}
[hidden]{display:none !important}
`;

/**
 * The dashboard's script: listens to /_sandbox/events, re-fetches the server-rendered order row (or list) of whatever changed on
 * the page (so there is one renderer, and it escapes), adds new orders to the first page, sends the action
 * buttons' requests to the control API, copies a delivery as curl and shows the doctor's answer in place.
 */
export const DASHBOARD_JS = `// exchanger-sandbox dashboard: live order rows and actions through the control API.
(function () {
  "use strict";
  var body = document.body;
  var base = body.getAttribute("data-base");
  var notice = document.getElementById("notice");
  var live = document.getElementById("live");
  // The page's view: only the first (newest) page takes new orders, and only those its filters let through.
  var firstPage = body.getAttribute("data-first-page") === "true";
  var statusFilter = body.getAttribute("data-status");
  var uidFilter = body.getAttribute("data-uid");
  var pageSize = Number(body.getAttribute("data-page-size")) || 25;
  var newest = Number(body.getAttribute("data-newest")) || 0;

  function say(text, isError) {
    notice.textContent = text;
    notice.className = isError ? "error" : "";
  }

  // ---- live updates: mark what changed, then fetch its card again (at most one request per card at a time)
  var dirty = {};
  var timer = null;
  var busy = false;

  function mark(key) {
    dirty[key] = true;
    if (!timer) timer = setTimeout(flush, 50);
  }

  function flush() {
    timer = null;
    if (busy) { timer = setTimeout(flush, 50); return; }
    var keys = Object.keys(dirty);
    dirty = {};
    if (keys.length === 0) return;
    // Of the orders not on the page yet (new ones), only as many as the page holds, the newest: a burst of
    // thousands must not become thousands of requests.
    var fresh = keys.filter(function (k) { return k !== "test" && !document.getElementById("order-" + k); });
    fresh.sort(function (a, b) { return Number(b) - Number(a); });
    var skipped = fresh.slice(pageSize);
    keys = keys.filter(function (k) { return skipped.indexOf(k) === -1; });
    busy = true;
    Promise.all(keys.map(refresh)).then(done, function (error) { say("Could not refresh: " + error, true); done(); });
    function done() {
      busy = false;
      if (Object.keys(dirty).length > 0 && !timer) timer = setTimeout(flush, 50);
    }
  }

  function refresh(key) {
    var url = key === "test" ? base + "/dashboard/test-ipns" : key === "inbox" ? base + "/dashboard/inbox" : base + "/dashboard/orders/" + encodeURIComponent(key);
    return fetch(url, { cache: "no-store" }).then(function (response) {
      if (response.status === 404) return null;
      if (!response.ok) throw new Error("HTTP " + response.status + " from " + url);
      return response.text();
    }).then(function (html) { swap(key, html); });
  }

  function swap(key, html) {
    var id = key === "test" ? "test-ipns" : key === "inbox" ? "inbox" : "order-" + key;
    var old = document.getElementById(id);
    if (html === null) {
      if (old) old.remove();
    } else {
      var template = document.createElement("template");
      template.innerHTML = html;
      var fresh = template.content.firstElementChild;
      if (old) {
        var refocus = keepState(old, fresh);
        old.replaceWith(fresh);
        if (refocus) refocus.focus();
      } else if (key !== "test") {
        insertOrder(fresh);
      }
    }
    var cards = document.querySelectorAll("#orders > [data-uid]");
    // The first page keeps its size: the oldest cards make room for new ones, and "older" now starts after the last
    // card left, so that the ones pushed off are on the next page.
    if (cards.length > pageSize) {
      for (var i = cards.length - 1; i >= pageSize; i--) cards[i].remove();
      var older = document.getElementById("older");
      if (!older) {
        older = document.createElement("a");
        older.id = "older";
        older.textContent = "older \u00bb";
        document.querySelector("nav.pager").appendChild(older);
      }
      var next = new URL(location.href);
      next.searchParams.set("cursor", cards[pageSize - 1].getAttribute("data-uid"));
      older.href = next.pathname + next.search;
    }
    var empty = document.getElementById("no-orders");
    if (empty) empty.hidden = cards.length > 0;
  }

  // Newest first, as the server renders them.
  function insertOrder(card) {
    var list = document.getElementById("orders");
    var uid = Number(card.getAttribute("data-uid"));
    var cards = list.querySelectorAll(":scope > [data-uid]");
    for (var i = 0; i < cards.length; i++) {
      if (Number(cards[i].getAttribute("data-uid")) < uid) { list.insertBefore(card, cards[i]); return; }
    }
    list.appendChild(card);
  }

  // A fresh card keeps what the user had open, chosen or typed in the old one, and the doctor's answers; returns the
  // field to focus again when the user was typing in one.
  function keepState(old, fresh) {
    old.querySelectorAll("details[data-key]").forEach(function (d) {
      var twin = fresh.querySelector('details[data-key="' + d.getAttribute("data-key") + '"]');
      if (twin) twin.open = d.open;
    });
    old.querySelectorAll("select[name]").forEach(function (select) {
      var twin = fresh.querySelector('select[name="' + select.name + '"]');
      if (twin && Array.prototype.some.call(twin.options, function (o) { return o.value === select.value; })) twin.value = select.value;
    });
    old.querySelectorAll("[data-keep]").forEach(function (kept) {
      var twin = fresh.querySelector('[data-keep="' + kept.getAttribute("data-keep") + '"]');
      if (!twin) return;
      if (kept.tagName === "INPUT") twin.value = kept.value;
      else twin.replaceChildren.apply(twin, Array.prototype.slice.call(kept.childNodes));
    });
    var focused = document.activeElement;
    if (focused && old.contains(focused) && focused.getAttribute("data-keep")) {
      return fresh.querySelector('[data-keep="' + focused.getAttribute("data-keep") + '"]');
    }
    return null;
  }

  function onPage(uid) {
    return document.getElementById("order-" + uid) !== null;
  }

  // A new order joins the first page when the filters let it through; the count of all orders goes up either way.
  function noteOrder(order) {
    var uid = String(order.uid);
    if (onPage(uid)) { mark(uid); return; }
    if (order.uid <= newest) return;
    newest = order.uid;
    var count = document.getElementById("order-count");
    if (count) count.textContent = String(Number(count.textContent) + 1);
    if (!firstPage) return;
    if (uidFilter && uidFilter !== uid) return;
    if (statusFilter && statusFilter !== order.status) return;
    mark(uid);
  }

  // Sent Last-Event-ID by the browser when it reconnects, the server replays what was missed, or says "resync" when
  // it cannot: then only a reload shows the truth.
  var source = new EventSource(base + "/events");
  source.addEventListener("hello", function () { live.textContent = "● live"; live.setAttribute("data-live", "true"); });
  source.addEventListener("error", function () { live.textContent = "○ reconnecting…"; live.setAttribute("data-live", "false"); });
  source.addEventListener("resync", function () { location.reload(); });
  source.addEventListener("change", function (event) {
    var change = JSON.parse(event.data);
    if (change.kind === "order") noteOrder(change.order);
    else if (change.kind === "delivery") {
      var owner = change.delivery.orderUID;
      if (owner === null) mark("test");
      else if (onPage(String(owner))) mark(String(owner));
      // An IPN to the sandbox's own inbox: its record changes once the inbox has answered, so the verdict is there.
      if (change.delivery.url.indexOf(base + "/inbox/") !== -1) mark("inbox");
    } else if (change.kind === "reset") location.reload();
  });

  // ---- actions through the control API
  function call(button, method, path, body, key, okText) {
    button.disabled = true;
    return fetch(base + path, {
      method: method,
      headers: body === undefined ? {} : { "content-type": "application/json" },
      body: body === undefined ? undefined : JSON.stringify(body),
    }).then(function (response) {
      return response.json().then(function (json) {
        if (!response.ok) say(json && json.error ? json.error.message : "HTTP " + response.status, true);
        else say(okText, false);
      });
    }).catch(function (error) { say(String(error), true); }).then(function () {
      button.disabled = false;
      mark(key);
    });
  }

  document.addEventListener("click", function (event) {
    var button = event.target.closest("[data-action]");
    if (!button) return;
    var card = button.closest("[data-uid]");
    var uid = card ? card.getAttribute("data-uid") : null;
    var form = button.closest("form");
    var action = button.getAttribute("data-action");
    if (action === "pay") {
      call(button, "POST", "/orders/" + uid + "/pay", { fault: form.elements.fault.value }, uid, "Order " + uid + " paid");
    } else if (action === "move") {
      var status = form.elements.status.value;
      call(button, "POST", "/orders/" + uid + "/status", { status: status, fault: form.elements.fault.value }, uid, "Order " + uid + " moved to " + status);
    } else if (action === "resend") {
      var id = button.getAttribute("data-delivery");
      call(button, "POST", "/deliveries/" + encodeURIComponent(id) + "/resend", undefined, uid || "test", "Delivery " + id + " sent again");
    } else if (action === "copy-curl") {
      event.preventDefault();
      copyCurl(button);
    }
  });

  // ---- copy as curl: the server gives the command whole (the page masks the secrets in URLs), the browser copies it
  function copyCurl(link) {
    var id = link.getAttribute("data-delivery");
    var text = fetch(link.href, { cache: "no-store" }).then(function (response) {
      if (!response.ok) throw new Error("HTTP " + response.status);
      return response.text();
    });
    copyText(text).then(function () {
      say("Copied " + id + " as curl, its URL whole: paste it in a terminal to send the IPN again by hand", false);
    }, function (error) {
      say("Could not copy " + id + " (" + error + "): open its copy as curl link to see the command", true);
    });
  }

  function copyText(text) {
    if (window.isSecureContext && navigator.clipboard) {
      // An item made of a promise keeps the click's permission to write while the command is fetched.
      var written = window.ClipboardItem
        ? navigator.clipboard.write([new ClipboardItem({ "text/plain": text.then(function (t) { return new Blob([t], { type: "text/plain" }); }) })])
        : Promise.reject(new Error("no ClipboardItem"));
      return written.catch(function () { return text.then(function (t) { return navigator.clipboard.writeText(t); }); });
    }
    // Over plain http from another machine the page is no secure context, and has no clipboard API.
    return text.then(function (t) {
      var area = document.createElement("textarea");
      area.value = t;
      area.className = "offscreen";
      document.body.appendChild(area);
      area.select();
      var copied = document.execCommand("copy");
      area.remove();
      if (!copied) throw new Error("the browser would not copy");
    });
  }

  // ---- why was this rejected? The server runs the doctor (with the order's own secret when none is typed) and
  // answers with a page; its diagnosis goes under the form. Without JavaScript the form posts to that page.
  document.addEventListener("submit", function (event) {
    var form = event.target;
    if (!form.classList.contains("doctor")) return;
    event.preventDefault();
    var slot = form.parentNode.querySelector(".diagnosis-slot");
    var button = form.querySelector("button");
    button.disabled = true;
    slot.textContent = "Asking the doctor…";
    fetch(form.action, {
      method: "POST",
      headers: { "content-type": "application/x-www-form-urlencoded" },
      body: new URLSearchParams(new FormData(form)).toString(),
    }).then(function (response) {
      return response.text();
    }).then(function (html) {
      var section = new DOMParser().parseFromString(html, "text/html").querySelector("section.diagnosis");
      if (!section) throw new Error("the answer has no diagnosis");
      slot.replaceChildren(document.adoptNode(section));
    }).catch(function (error) {
      slot.textContent = "";
      say("Could not ask the doctor: " + error, true);
    }).then(function () {
      button.disabled = false;
    });
  });

  var testForm = document.getElementById("test-ipn-form");
  testForm.addEventListener("submit", function (event) {
    event.preventDefault();
    var f = testForm.elements;
    var body = { ipnUrl: f.ipnUrl.value, ipnSecret: f.ipnSecret.value, status: f.status.value, fault: f.fault.value };
    if (f.orderUID.value) body.orderUID = Number(f.orderUID.value);
    call(testForm.querySelector("button"), "POST", "/ipn", body, "test", "Test IPN fired at " + body.ipnUrl);
  });
})();
`;

/** The dashboard's icon, so browsers do not ask for /favicon.ico. */
export const DASHBOARD_ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1d2430"/><path d="M3 11l3-4 3 2 4-5" stroke="#fff" stroke-width="1.5" fill="none"/></svg>`;
