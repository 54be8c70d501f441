// The pages' stylesheet, script and icon, served as static files so the Content-Security-Policy can forbid inline code.

/** The one stylesheet of the payment and order pages. */
export const PAGES_CSS = `
:root{--ink:#1d2430;--muted:#5f6b7a;--line:#dde2ea;--soft:#f4f6fa;--accent:#1a56db;--ok:#137333;--bad:#b3261e;--warn:#8a6100}
*{box-sizing:border-box}
body{margin:0;font:16px/1.5 system-ui,-apple-system,"Segoe UI",Roboto,sans-serif;color:var(--ink);background:var(--soft)}
header.bar{display:flex;justify-content:space-between;align-items:center;gap:1rem;padding:.6rem 1.2rem;background:#fff;border-bottom:1px solid var(--line);font-size:.9rem}
header.bar .note{color:var(--warn)}
header.bar nav>*{margin-left:.8rem}
main{max-width:44rem;margin:1.5rem auto;padding:0 1rem}
.card{background:#fff;border:1px solid var(--line);border-radius:10px;padding:1.2rem 1.4rem;margin-bottom:1rem}
.card>:first-child{margin-top:0}.card>:last-child{margin-bottom:0}
.requisites+.requisites{margin-top:1.1rem}
h1{font-size:1.4rem;margin:0 0 .6rem}
h2{font-size:1.05rem;margin:0 0 .6rem}
a{color:var(--accent)}
.status{display:inline-block;padding:.1rem .6rem;border-radius:999px;font-weight:600;background:#e8eefc;color:var(--accent)}
.status.tone-success{background:#e6f4ea;color:var(--ok)}
.status.tone-error{background:#fce8e6;color:var(--bad)}
.amount{font-size:1.5rem;font-weight:700}
.pay{display:grid;grid-template-columns:1fr auto;gap:1rem;align-items:start}
.qr{width:11rem;height:11rem;border:1px solid var(--line);border-radius:6px;background:#fff}
.qr svg{display:block;width:100%;height:100%}
.address{display:flex;flex-wrap:wrap;gap:.5rem;align-items:center}
.address code{font-size:.95rem;padding:.3rem .5rem;background:var(--soft);border-radius:6px;word-break:break-all}
dl.facts{display:grid;grid-template-columns:max-content 1fr;gap:.3rem 1rem;margin:0}
dl.facts dt{color:var(--muted)}
dl.facts dd{margin:0;word-break:break-word}
.muted{color:var(--muted);font-size:.9rem}
button,.button{display:inline-block;font:inherit;font-weight:600;padding:.45rem 1rem;border-radius:8px;border:1px solid var(--accent);background:var(--accent);color:#fff;cursor:pointer;text-decoration:none}
button.secondary{background:#fff;color:var(--accent);padding:.2rem .7rem;font-size:.9rem}
ol.timeline{list-style:none;margin:0;padding:0}
ol.timeline li{display:flex;justify-content:space-between;gap:1rem;padding:.35rem 0 .35rem 1rem;border-left:3px solid var(--line)}
ol.timeline li:last-child{border-left-color:var(--accent);font-weight:600}
ol.timeline time{color:var(--muted);font-size:.85rem;font-weight:400}
.countdown{font-variant-numeric:tabular-nums;font-weight:600}
[hidden]{display:none !important}
@media (max-width:34rem){.pay{grid-template-columns:1fr}.qr{width:9rem;height:9rem}}
`;

/**
 * The pages' script: copy button, countdown, and live status over the order's own event stream. Plain ES5-level
 * code with no build step; every text it writes goes through textContent, never innerHTML.
 */
export const PAGES_JS = `// exchanger-sandbox pages: copy button, countdown, live status.
(function () {
  "use strict";

  var main = document.querySelector("main[data-events]");
  if (!main) return;

  // Copy button: hidden in the HTML, so that without scripts nobody sees a button that does nothing.
  var copy = document.getElementById("copy");
  var address = document.getElementById("address");
  if (copy && address) {
    copy.hidden = false;
    copy.addEventListener("click", function () {
      var text = address.textContent || "";
      var done = function () {
        copy.textContent = copy.getAttribute("data-copied");
      };
      if (navigator.clipboard && navigator.clipboard.writeText) {
        navigator.clipboard.writeText(text).then(done, function () { fallbackCopy(text) && done(); });
      } else if (fallbackCopy(text)) {
        done();
      }
    });
  }

  function fallbackCopy(text) {
    var range = document.createRange();
    range.selectNodeContents(address);
    var selection = window.getSelection();
    if (!selection) return false;
    selection.removeAllRanges();
    selection.addRange(range);
    try { return document.execCommand("copy"); } catch (e) { return false; }
  }

  // Countdown: sandbox time runs at data-speed times the wall clock (0 when it only moves on request).
  var countdown = document.getElementById("time-left");
  var ticking = null;
  if (countdown) {
    var left = Number(countdown.getAttribute("data-left-ms"));
    var speed = Number(countdown.getAttribute("data-speed"));
    var started = Date.now();
    var tick = function () {
      var ms = left - (Date.now() - started) * speed;
      countdown.textContent = ms > 0 ? formatLeft(ms) : countdown.getAttribute("data-expired");
      if (ms <= 0 && ticking) { clearInterval(ticking); ticking = null; }
    };
    if (speed > 0 && left > 0) ticking = setInterval(tick, 250);
  }

  function formatLeft(ms) {
    var total = Math.floor(ms / 1000);
    var h = Math.floor(total / 3600), m = Math.floor((total % 3600) / 60), s = total % 60;
    var ss = (s < 10 ? "0" : "") + s;
    return h > 0 ? h + ":" + (m < 10 ? "0" : "") + m + ":" + ss : m + ":" + ss;
  }

  // Live status: the order's own stream sends its state on connect and after every change.
  if (!window.EventSource) return;
  var source = new EventSource(main.getAttribute("data-events"));
  source.addEventListener("state", function (event) {
    apply(JSON.parse(event.data));
  });
  source.addEventListener("gone", function () {
    source.close();
    location.reload();
  });

  function apply(state) {
    main.setAttribute("data-status", state.status);
    var status = document.getElementById("status");
    if (status) {
      status.textContent = state.label;
      status.setAttribute("data-status", state.status);
      status.className = "status tone-" + state.tone;
    }
    var timeline = document.getElementById("timeline");
    if (timeline) {
      while (timeline.firstChild) timeline.removeChild(timeline.firstChild);
      state.history.forEach(function (entry) {
        var li = document.createElement("li");
        li.setAttribute("data-status", entry.status);
        var label = document.createElement("span");
        label.textContent = entry.label;
        var time = document.createElement("time");
        time.setAttribute("datetime", new Date(entry.at).toISOString());
        time.textContent = entry.time;
        li.appendChild(label);
        li.appendChild(time);
        timeline.appendChild(li);
      });
    }
    var unpaid = document.getElementById("unpaid");
    if (unpaid) unpaid.hidden = !state.unpaid;
    if (!state.unpaid && ticking) { clearInterval(ticking); ticking = null; }
    var payForm = document.getElementById("pay-form");
    if (payForm) payForm.hidden = !state.canPay;
    var back = document.getElementById("return");
    if (back) {
      if (state.returnUrl) back.setAttribute("href", state.returnUrl);
      back.hidden = !state.returnUrl;
    }
  }
})();
`;

/** A small icon, so browsers do not ask for /favicon.ico and log a 404. */
export const ICON_SVG = `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 16 16"><rect width="16" height="16" rx="3" fill="#1a56db"/><path d="M4 6h8l-2-2M12 10H4l2 2" stroke="#fff" stroke-width="1.5" fill="none"/></svg>`;
