// Health: readiness of each backend and the service's main numbers, read
// from /readyz and /metrics (Prometheus text, parsed here) every few
// seconds, each with a sparkline of its recent values.
import { h, formatBytes, formatCount } from './dom.js';

const intervalMs = 2000;
const samples = 60;

// parseMetrics reads Prometheus text exposition into [{name, labels, value}].
export function parseMetrics(text) {
  const out = [];
  const line = /^([a-zA-Z_:][a-zA-Z0-9_:]*)(?:\{(.*)\})?\s+(\S+)/;
  const label = /([a-zA-Z_][a-zA-Z0-9_]*)="((?:[^"\\]|\\.)*)"/g;
  for (const l of text.split('\n')) {
    if (l === '' || l.startsWith('#')) continue;
    const m = l.match(line);
    if (!m) continue;
    const labels = {};
    for (const [, k, v] of (m[2] || '').matchAll(label)) labels[k] = v.replace(/\\(.)/g, (_, c) => (c === 'n' ? '\n' : c));
    out.push({ name: m[1], labels, value: Number(m[3]) });
  }
  return out;
}

const sum = (ms, name, pred = () => true) => {
  const xs = ms.filter((m) => m.name === name && pred(m.labels));
  return xs.length ? xs.reduce((n, m) => n + m.value, 0) : null;
};

// The numbers shown: counters are drawn as their increase per interval.
const numbers = [
  { id: 'images', label: 'Images processed', kind: 'counter', format: formatCount,
    read: (ms) => sum(ms, 'hotpath_images_processed_total', (l) => l.result === 'stored' || l.result === 'queued') },
  { id: 'failed', label: 'Uploads refused', kind: 'counter', format: formatCount,
    read: (ms) => sum(ms, 'hotpath_images_processed_total', (l) => l.result !== 'stored' && l.result !== 'queued') ?? 0 },
  { id: 'bytes', label: 'Bytes processed', kind: 'counter', format: formatBytes, read: (ms) => sum(ms, 'hotpath_image_bytes_processed_total') },
  { id: 'transforms', label: 'Transforms computed', kind: 'counter', format: formatCount, read: (ms) => sum(ms, 'hotpath_transforms_processed_total') },
  { id: 'queue', label: 'Image queue depth', kind: 'gauge', format: formatCount, read: (ms) => sum(ms, 'hotpath_queue_depth') },
  { id: 'jobqueue', label: 'Job queue depth', kind: 'gauge', format: formatCount, read: (ms) => sum(ms, 'hotpath_job_queue_depth') },
  { id: 'busy', label: 'Workers busy', kind: 'gauge', format: formatCount, read: (ms) => sum(ms, 'hotpath_workers_busy') },
  { id: 'vips', label: 'libvips memory', kind: 'gauge', format: formatBytes, read: (ms) => sum(ms, 'hotpath_vips_memory_bytes') },
];

function sparkline(values) {
  const w = 120, hgt = 28;
  const svg = h('svg', { viewBox: `0 0 ${w} ${hgt}`, width: w, height: hgt, class: 'spark', 'aria-hidden': 'true', focusable: 'false' });
  if (values.length < 2) return svg;
  const max = Math.max(...values), min = Math.min(0, ...values);
  const span = max - min || 1;
  // The samples so far span the width; the line scrolls once it holds 60.
  const step = w / (values.length - 1);
  const pts = values.map((v, i) => `${(i * step).toFixed(1)},${(hgt - 2 - ((v - min) / span) * (hgt - 4)).toFixed(1)}`);
  svg.append(h('polyline', { points: pts.join(' '), fill: 'none', stroke: 'currentColor', 'stroke-width': 1.5 }));
  return svg;
}

export function healthPage(view) {
  let timer = null;
  let stopped = false;
  const ready = h('p', { id: 'ready', class: 'ready' }, 'Checking…');
  const backends = h('ul', { class: 'backends', id: 'backends' });
  const cards = new Map(numbers.map((n) => {
    const value = h('span', { class: 'value', 'data-number': n.id }, '–');
    const spark = h('span', { class: 'sparkwrap' });
    const li = h('li', { class: 'number' }, h('span', { class: 'label' }, n.label), value, spark,
      h('span', { class: 'hint' }, n.kind === 'counter' ? 'per 2 s' : 'now'));
    return [n.id, { li, value, spark, history: [], last: null }];
  }));
  view.append(
    h('h1', {}, 'Health'),
    h('section', { class: 'panel', 'aria-labelledby': 'ready-title' }, h('h2', { id: 'ready-title' }, 'Readiness'), ready, backends),
    h('section', { 'aria-labelledby': 'numbers-title' }, h('h2', { id: 'numbers-title' }, 'Numbers'),
      h('ul', { class: 'numbers' }, [...cards.values()].map((c) => c.li))));

  async function tick() {
    try {
      const r = await fetch('/readyz', { cache: 'no-store' });
      const body = await r.json().catch(() => ({}));
      ready.dataset.ready = String(body.status === 'ready');
      ready.dataset.status = body.status || 'unknown';
      ready.textContent = body.status === 'ready' ? 'Ready: every backend answers.'
        : body.status === 'degraded' ? 'Degraded: an optional backend does not answer; the rest works.'
          : `Not ready: ${body.error ? body.error.message : r.statusText}`;
      backends.replaceChildren(...Object.entries(body.checks || {}).map(([name, c]) =>
        h('li', { 'data-up': String(c.status === 'ok') }, h('span', { class: 'dot', 'aria-hidden': 'true' }),
          h('strong', {}, name), ': ', c.status === 'ok' ? 'up' : 'down',
          c.required ? '' : ' (optional)', c.error ? h('span', { class: 'hint' }, ' · ' + c.error) : null)));
    } catch {
      ready.dataset.ready = 'false';
      ready.textContent = 'The server does not answer.';
    }
    try {
      const ms = parseMetrics(await (await fetch('/metrics', { cache: 'no-store' })).text());
      for (const n of numbers) {
        const c = cards.get(n.id);
        const v = n.read(ms);
        c.li.hidden = v === null;
        if (v === null) continue;
        c.value.textContent = n.format(v);
        const point = n.kind === 'counter' ? (c.last === null ? 0 : Math.max(0, v - c.last)) : v;
        c.last = v;
        c.history.push(point);
        if (c.history.length > samples) c.history.shift();
        c.spark.replaceChildren(sparkline(c.history));
      }
    } catch { /* shown as stale numbers; readiness says why */ }
    if (!stopped) timer = setTimeout(tick, intervalMs);
  }
  tick();
  return () => { stopped = true; clearTimeout(timer); };
}
