/**
 * The web page of click-to-call: two addresses, a Call button, the call's state as the API reports
 * it (polled twice a second), and Hang up. Served by the app itself at /click-to-call/ (the HTML)
 * and /click-to-call/page.js (the script: no inline script, so a strict Content-Security-Policy holds).
 */

export function pageHtml(basePath: string): string {
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>Click to call</title>
<style>
  body { font: 16px/1.4 system-ui, sans-serif; margin: 2rem auto; max-width: 34rem; padding: 0 1rem; color: #222; }
  h1 { font-size: 1.5rem; }
  label { display: block; margin: .8rem 0 .2rem; font-weight: 600; }
  input { width: 100%; box-sizing: border-box; padding: .5rem; font: inherit; }
  .buttons { margin: 1rem 0; display: flex; gap: .5rem; }
  button { padding: .5rem 1.2rem; font: inherit; cursor: pointer; }
  button:disabled { cursor: default; opacity: .5; }
  #call { background: #1a7f37; color: #fff; border: 0; border-radius: 4px; }
  #hangup { background: #cf222e; color: #fff; border: 0; border-radius: 4px; }
  #status { border: 1px solid #ccc; border-radius: 4px; padding: .8rem; min-height: 4rem; }
  #state { font-size: 1.3rem; font-weight: 700; text-transform: uppercase; }
  .calling, .ringing { color: #9a6700; } .answered { color: #1a7f37; } .ended, .error { color: #cf222e; }
  table { border-collapse: collapse; margin-top: .5rem; width: 100%; }
  td { padding: .15rem .4rem .15rem 0; vertical-align: top; }
</style>
</head>
<body>
<h1>Click to call</h1>
<p>Siplet calls the first address; when it answers, it calls the second one and connects them (RFC 3725).</p>
<form id="form">
  <label for="from">First party (called first)</label>
  <input id="from" name="from" placeholder="sip:alice@example.com" required autocomplete="off">
  <label for="to">Second party</label>
  <input id="to" name="to" placeholder="sip:bob@example.com" required autocomplete="off">
  <div class="buttons">
    <button id="call" type="submit">Call</button>
    <button id="hangup" type="button" disabled>Hang up</button>
  </div>
</form>
<div id="status" aria-live="polite">
  <div id="state">idle</div>
  <div id="reason"></div>
  <table><tbody>
    <tr><td>First party</td><td id="first"></td></tr>
    <tr><td>Second party</td><td id="second"></td></tr>
  </tbody></table>
</div>
<script src="${basePath}/page.js" data-base="${basePath}"></script>
</body>
</html>
`;
}

export const PAGE_SCRIPT = `'use strict';
(function () {
  var base = document.currentScript.getAttribute('data-base');
  var form = document.getElementById('form');
  var callButton = document.getElementById('call');
  var hangupButton = document.getElementById('hangup');
  var current = null;
  var timer = null;

  function text(id, value) { document.getElementById(id).textContent = value || ''; }
  function party(p) { return p ? p.uri + ' — ' + p.state + (p.status ? ' (' + p.status + ' ' + (p.reason || '') + ')' : '') : ''; }

  function show(call) {
    var state = document.getElementById('state');
    state.textContent = call.state + (call.calling ? ' (' + call.calling + ' party)' : '');
    state.className = call.state;
    text('reason', call.reason);
    text('first', party(call.from));
    text('second', party(call.to));
    var over = call.state === 'ended';
    hangupButton.disabled = over;
    callButton.disabled = !over;
    if (over) stop();
  }

  function problem(message) {
    var state = document.getElementById('state');
    state.textContent = 'error';
    state.className = 'error';
    text('reason', message);
    callButton.disabled = false;
  }

  function stop() { if (timer !== null) { clearInterval(timer); timer = null; } }

  function poll() {
    if (current === null) return;
    fetch(base + '/calls/' + encodeURIComponent(current), { headers: { accept: 'application/json' } })
      .then(function (res) { return res.ok ? res.json() : Promise.reject(new Error('the call is gone (' + res.status + ')')); })
      .then(show)
      .catch(function (error) { stop(); problem(error.message); });
  }

  form.addEventListener('submit', function (event) {
    event.preventDefault();
    callButton.disabled = true;
    var body = JSON.stringify({ from: document.getElementById('from').value, to: document.getElementById('to').value });
    fetch(base + '/calls', { method: 'POST', headers: { 'content-type': 'application/json' }, body: body })
      .then(function (res) { return res.json().then(function (json) { return res.ok ? json : Promise.reject(new Error(json.error || res.statusText)); }); })
      .then(function (json) {
        current = json.id;
        show(json.call);
        stop();
        timer = setInterval(poll, 500);
      })
      .catch(function (error) { problem(error.message); });
  });

  hangupButton.addEventListener('click', function () {
    if (current === null) return;
    hangupButton.disabled = true;
    fetch(base + '/calls/' + encodeURIComponent(current), { method: 'DELETE' })
      .then(function (res) { return res.json(); })
      .then(show)
      .catch(function (error) { problem(error.message); });
  });
})();
`;
