// The dashboard's client: hash routes (#tree, #alarms, #alarm/ID, #stats), the JSON API, and the
// server's batched Server-Sent Events. No framework, no network beyond this server.
const view = document.getElementById('view');
let csrf = null;
let restarts = {}; // actor name -> restarts since the dashboard started (from the server)

const esc = (s) => String(s).replace(/[&<>"']/g, (c) => `&#${c.charCodeAt(0)};`);
const time = (ms) => (ms == null ? '' : new Date(ms).toISOString().replace('T', ' ').slice(0, 19));
async function get(path) {
  const res = await fetch(path, { headers: { accept: 'application/json' } });
  if (!res.ok) throw new Error((await res.json()).message);
  return res.json();
}

function treeHtml(node) {
  const r = restarts[node.name] ?? 0;
  const label = `<span class="name">${esc(node.name)}</span> <span class="${esc(node.status)}">${esc(node.status)}</span> #${node.incarnation}${r ? ` · <span class="restarts">${r} restart${r > 1 ? 's' : ''}</span>` : ''}`;
  const kids = (node.children ?? []).map(treeHtml).join('');
  return `<li data-actor="${esc(node.name)}">${label}${kids ? `<ul>${kids}</ul>` : ''}</li>`;
}

const views = {
  async tree() {
    const { root, restarts: counts } = await get('/api/tree');
    restarts = counts;
    view.innerHTML = `<h2>Supervision tree</h2><ul class="tree">${root ? treeHtml(root) : '<li>not running</li>'}</ul>`;
  },
  async alarms(params) {
    const q = new URLSearchParams(params);
    const { alarms, next } = await get(`/api/alarms?${q}`);
    const rows = alarms
      .map(
        (a) =>
          `<tr><td><a href="#alarm/${a.id}">${a.id}</a></td><td>${esc(a.target)}</td><td class="${esc(a.status)}">${esc(a.status)}</td><td>${time(a.fireAt)}</td><td>${a.attempts}</td><td>${esc(a.key ?? '')}</td></tr>`,
      )
      .join('');
    view.innerHTML = `<h2>Alarms</h2>
<form id="filter"><label>Status <select name="status"><option value="">any</option>${['pending', 'fired', 'failed', 'cancelled', 'missed'].map((s) => `<option${q.get('status') === s ? ' selected' : ''}>${s}</option>`).join('')}</select></label>
<label>Target <input name="target" value="${esc(q.get('target') ?? '')}"></label> <button>Filter</button></form>
<table><caption class="sr">Alarms</caption><thead><tr><th>id</th><th>target</th><th>status</th><th>fires at</th><th>attempts</th><th>key</th></tr></thead><tbody>${rows}</tbody></table>
${next ? `<p><a id="next" href="#alarms?${new URLSearchParams({ ...Object.fromEntries(q), after: next })}">Next page</a></p>` : ''}`;
    document.getElementById('filter').onsubmit = (e) => {
      e.preventDefault();
      const f = new FormData(e.target);
      location.hash = `alarms?${new URLSearchParams([...f].filter(([, v]) => v))}`;
    };
  },
  async alarm(_params, id) {
    const a = await get(`/api/alarms/${id}`);
    view.innerHTML = `<h2>Alarm ${a.id}</h2><dl>
<dt>Status</dt><dd id="status" class="${esc(a.status)}">${esc(a.status)}</dd><dt>Target</dt><dd>${esc(a.target)}</dd>
<dt>Fires at</dt><dd>${time(a.fireAt)}</dd><dt>Attempts</dt><dd>${a.attempts}</dd><dt>Last error</dt><dd>${esc(a.lastError ?? '—')}</dd>
<dt>Recurrence</dt><dd>${esc(a.recurrence ? JSON.stringify(a.recurrence) : '—')}</dd></dl>
<h3>Message</h3><pre>${esc(JSON.stringify(a.message, null, 2))}</pre>
${a.status === 'pending' ? '<button id="cancel" type="button">Cancel this alarm</button> <span id="result" role="status"></span>' : ''}`;
    const button = document.getElementById('cancel');
    if (button) {
      button.onclick = async () => {
        if (!confirm(`Cancel alarm ${a.id}?`)) return;
        const res = await fetch(`/api/alarms/${a.id}/cancel`, {
          method: 'POST',
          headers: { 'x-vigil-csrf': csrf ?? '' },
        });
        const body = await res.json();
        if (res.ok) render();
        else document.getElementById('result').textContent = `Refused: ${body.message}`;
      };
    }
  },
  async stats() {
    const s = await get('/api/stats');
    const max = Math.max(1, ...s.lateness.counts);
    const labels = s.lateness.bounds.map((b) => `≤ ${b} ms`).concat(`> ${s.lateness.bounds.at(-1)} ms`);
    view.innerHTML = `<h2>Stats</h2><p>Pending: ${s.store.byStatus.pending} · fired: ${s.store.byStatus.fired} · failed: ${s.store.byStatus.failed}</p>
<h3>Lateness</h3><table id="lateness"><tbody>${labels.map((l, i) => `<tr><th>${l}</th><td><span class="bar" style="width:${(200 * s.lateness.counts[i]) / max}px"></span> ${s.lateness.counts[i]}</td></tr>`).join('')}</tbody></table>
<h3>Per minute</h3><table id="minutes"><thead><tr><th>minute</th><th>delivered</th><th>failed</th><th>retried</th></tr></thead><tbody>${s.perMinute.map((m) => `<tr><td>${time(m.minute)}</td><td>${m.delivered}</td><td>${m.failed}</td><td>${m.retried}</td></tr>`).join('')}</tbody></table>`;
  },
};

async function render() {
  const [route, query] = (location.hash.slice(1) || 'tree').split('?');
  const [name, id] = route.split('/');
  try {
    await (views[name] ?? views.tree)(Object.fromEntries(new URLSearchParams(query ?? '')), id);
  } catch (err) {
    view.textContent = `Error: ${err.message}`;
  }
}

document.getElementById('login').onsubmit = async (e) => {
  e.preventDefault();
  const res = await fetch('/api/login', {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ token: document.getElementById('token').value }),
  });
  const body = await res.json();
  csrf = res.ok ? body.csrf : null;
  document.getElementById('session').textContent = res.ok ? 'Actions enabled' : body.message;
};

const events = new EventSource('/api/events');
events.onmessage = (m) => {
  const batch = JSON.parse(m.data);
  document.getElementById('live').textContent = Object.entries(batch.counts)
    .map(([k, v]) => `${k} ${v}`)
    .join(' · ');
  const name = (location.hash.slice(1) || 'tree').split(/[/?]/)[0];
  if (name === 'tree' ? batch.treeChanged : name !== 'alarm') render();
};
addEventListener('hashchange', render);
render();
