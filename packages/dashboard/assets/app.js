// The dashboard's client: hash routes (#tree, #alarms, #alarm/ID, #runs, #run/ID, #stats), the
// JSON API, and the server's batched Server-Sent Events. No framework, no network beyond this
// server.
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
<label>Target <input name="target" value="${esc(q.get('target') ?? '')}"></label>
<label>Key <input name="key" value="${esc(q.get('key') ?? '')}"></label>
<label>Fires from <input name="from" type="datetime-local" value="${localInput(q.get('from'))}"></label>
<label>to <input name="to" type="datetime-local" value="${localInput(q.get('to'))}"></label> <button>Filter</button></form>
<table><caption class="sr">Alarms</caption><thead><tr><th>id</th><th>target</th><th>status</th><th>fires at</th><th>attempts</th><th>key</th></tr></thead><tbody>${rows}</tbody></table>
${next ? `<p><a id="next" href="#alarms?${new URLSearchParams({ ...Object.fromEntries(q), after: next })}">Next page</a></p>` : ''}`;
    document.getElementById('filter').onsubmit = (e) => {
      e.preventDefault();
      // Instants go to the server in epoch ms: the browser reads the inputs in its own zone.
      const f = [...new FormData(e.target)]
        .filter(([, v]) => v)
        .map(([k, v]) => (k === 'from' || k === 'to' ? [k, String(new Date(v).getTime())] : [k, v]));
      location.hash = `alarms?${new URLSearchParams(f)}`;
    };
  },
  async alarm(_params, id) {
    const a = await get(`/api/alarms/${id}`);
    view.innerHTML = `<h2>Alarm ${a.id}</h2><dl>
<dt>Status</dt><dd id="status" class="${esc(a.status)}">${esc(a.status)}</dd><dt>Target</dt><dd>${esc(a.target)}</dd>
<dt>Fires at</dt><dd>${time(a.fireAt)}</dd><dt>Attempts</dt><dd>${a.attempts}</dd><dt>Last error</dt><dd>${esc(a.lastError ?? '—')}</dd>
<dt>Recurrence</dt><dd>${esc(a.recurrence ? JSON.stringify(a.recurrence) : '—')}</dd>
<dt>Key</dt><dd>${esc(a.key ?? '—')}</dd></dl>
${a.recurrence ? `<h3>Series</h3><p id="series">Occurrence ${a.occurrence}${a.status === 'pending' ? `, next at ${time(a.fireAt)}` : ''} · delivered ${a.counts.delivered} · missed ${a.counts.missed} · failed ${a.counts.failed}</p>` : ''}
<h3>Occurrences</h3>${
      a.occurrences.length
        ? `<table id="occurrences"><caption class="sr">Settled occurrences</caption><thead><tr><th>#</th><th>scheduled for</th><th>settled at</th><th>attempts</th><th>outcome</th><th>error</th></tr></thead><tbody>${a.occurrences
            .map(
              (o) =>
                `<tr><td>${o.seq}</td><td>${time(o.scheduledFor)}</td><td>${time(o.settledAt)}</td><td>${o.attempts}</td><td class="${esc(o.outcome)}">${esc(o.outcome)}</td><td>${esc(o.error ?? '')}</td></tr>`,
            )
            .join('')}</tbody></table>`
        : '<p>None settled yet.</p>'
    }
<h3>Message</h3><pre>${esc(JSON.stringify(a.message, null, 2))}</pre>
${a.status === 'pending' ? '<button id="cancel" type="button">Cancel this alarm</button> <span id="result" role="status"></span>' : ''}`;
    const button = document.getElementById('cancel');
    if (button) {
      button.onclick = async () => {
        if (!confirm(`Cancel alarm ${a.id}?`)) return;
        await act(`/api/alarms/${a.id}/cancel`);
      };
    }
  },
  async runs(params) {
    const q = new URLSearchParams(params);
    const { runs, next } = await get(`/api/runs?${q}`);
    const rows = runs
      .map(
        (r) =>
          `<tr><td><a href="#run/${encodeURIComponent(r.id)}">${esc(r.id)}</a></td><td>${esc(r.workflow)} v${esc(r.version ?? 1)}</td><td class="${esc(r.status)}">${esc(r.status)}</td><td>${esc(r.step)}</td><td>${time(r.nextAt)}</td><td>${time(r.updatedAt)}</td></tr>`,
      )
      .join('');
    view.innerHTML = `<h2>Workflow runs</h2>
<form id="filter"><label>Status <select name="status"><option value="">any</option>${['running', 'waiting', 'completed', 'failed', 'cancelled'].map((s) => `<option${q.get('status') === s ? ' selected' : ''}>${s}</option>`).join('')}</select></label>
<label>Workflow <input name="workflow" value="${esc(q.get('workflow') ?? '')}"></label> <button>Filter</button></form>
<table><caption class="sr">Workflow runs</caption><thead><tr><th>run</th><th>workflow</th><th>status</th><th>step</th><th>next step at</th><th>updated</th></tr></thead><tbody>${rows}</tbody></table>
${next ? `<p><a id="next" href="#runs?${new URLSearchParams({ ...Object.fromEntries(q), after: next })}">Next page</a></p>` : ''}`;
    document.getElementById('filter').onsubmit = (e) => {
      e.preventDefault();
      location.hash = `runs?${new URLSearchParams([...new FormData(e.target)].filter(([, v]) => v))}`;
    };
  },
  async run(_params, id) {
    const r = await get(`/api/runs/${encodeURIComponent(decodeURIComponent(id))}`);
    const live = r.status === 'running' || r.status === 'waiting';
    const timeline = r.history
      .map(
        (h) =>
          `<li><span class="when">${time(h.startedAt)}</span> <strong>${esc(h.step)}</strong> (attempt ${h.attempt}, ${Math.max(0, h.endedAt - h.startedAt)} ms) → <span class="outcome">${esc(h.outcome)}</span>${h.detail ? ` ${esc(h.detail)}` : ''}</li>`,
      )
      .join('');
    const waiting = r.waiting
      ? `<p id="waiting">Waiting for the signal <strong>${esc(r.waiting.signal)}</strong>${r.waiting.deadline ? ` until ${time(r.waiting.deadline)}` : ' (no deadline)'}.</p>`
      : '';
    view.innerHTML = `<h2>Run ${esc(r.id)}</h2><dl>
<dt>Workflow</dt><dd>${esc(r.workflow)} (version ${esc(r.version ?? 1)})</dd><dt>Status</dt><dd id="status" class="${esc(r.status)}">${esc(r.status)}</dd>
<dt>Step</dt><dd>${esc(r.step)}</dd><dt>Next step at</dt><dd>${time(r.nextAt) || '—'}</dd>
<dt>Started</dt><dd>${time(r.createdAt)}</dd><dt>Ended</dt><dd>${time(r.endedAt) || '—'}</dd><dt>Error</dt><dd>${esc(r.error ?? '—')}</dd></dl>
${waiting}<h3>Timeline</h3><ol id="timeline">${timeline || '<li>No step has run yet.</li>'}</ol>
<h3>Context</h3><pre>${esc(JSON.stringify(r.context, null, 2))}</pre>
${
  live
    ? `<h3>Actions</h3><form id="signal"><label>Signal <input name="name" required value="${esc(r.waiting?.signal ?? '')}"></label>
<label>Payload (JSON) <input name="payload" value="{}"></label> <button>Send signal</button></form>
<p><button id="cancel" type="button">Cancel this run</button></p>`
    : ''
}<span id="result" role="status"></span>`;
    const cancel = document.getElementById('cancel');
    if (cancel) {
      cancel.onclick = async () => {
        if (!confirm(`Cancel run ${r.id}?`)) return;
        await act(`/api/runs/${encodeURIComponent(r.id)}/cancel`);
      };
      document.getElementById('signal').onsubmit = async (e) => {
        e.preventDefault();
        const f = new FormData(e.target);
        let payload;
        try {
          payload = JSON.parse(f.get('payload') || '{}');
        } catch {
          document.getElementById('result').textContent = 'The payload is not JSON.';
          return;
        }
        if (!confirm(`Send the signal ${f.get('name')} to run ${r.id}?`)) return;
        await act(`/api/runs/${encodeURIComponent(r.id)}/signal`, { name: f.get('name'), payload });
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

/** A POST action with the session's CSRF header; re-renders on success, says why on refusal. */
async function act(path, body) {
  const res = await fetch(path, {
    method: 'POST',
    headers: { 'x-vigil-csrf': csrf ?? '', 'content-type': 'application/json' },
    body: body === undefined ? undefined : JSON.stringify(body),
  });
  const answer = await res.json();
  if (res.ok) render();
  else document.getElementById('result').textContent = `Refused: ${answer.message}`;
}

/** An epoch-ms query value as a datetime-local input's value (the browser's zone). */
function localInput(ms) {
  if (!ms) return '';
  const d = new Date(Number(ms));
  return new Date(d.getTime() - d.getTimezoneOffset() * 60_000).toISOString().slice(0, 16);
}

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
  if (name === 'tree' ? batch.treeChanged : name !== 'alarm' && name !== 'run') render();
};
addEventListener('hashchange', render);
render();
