// Jobs and batches started from this tab (async uploads, batches), live:
// state, progress, and failed files with their reasons. The API answers for
// one job or batch by id; the ids come from what this tab started.
import { api, tracked } from './api.js';
import { h, formatDate, errorText } from './dom.js';
import { jobErrorText } from './upload.js';

const pollMs = 1000;

export function jobsPage(view) {
  const stop = new AbortController();
  const list = h('ul', { class: 'jobs', id: 'jobs', 'aria-live': 'polite' });
  view.append(
    h('h1', {}, 'Jobs and batches'),
    h('p', { class: 'hint' }, 'Background work started from this tab: asynchronous uploads and batches.'),
    list);
  const items = tracked();
  if (items.length === 0) {
    list.append(h('li', { class: 'empty' }, 'Nothing yet. Uploads with "process in the background" or "send as one batch" show here.'));
    return () => stop.abort();
  }
  const rows = new Map(items.map((t) => [t.id, row(t)]));
  list.append(...[...rows.values()].map((r) => r.li));

  async function poll() {
    while (!stop.signal.aborted) {
      let pending = 0;
      await Promise.all(items.map(async (t) => {
        const r = rows.get(t.id);
        if (r.finished) return;
        try {
          const v = await api(`/v1/${t.kind === 'batch' ? 'batches' : 'jobs'}/${t.id}`, { signal: stop.signal });
          r.update(v);
        } catch (err) {
          if (!stop.signal.aborted) r.fail(err);
        }
        if (!r.finished) pending++;
      }));
      if (pending === 0) return;
      await new Promise((resolve) => setTimeout(resolve, pollMs));
    }
  }
  poll();
  return () => stop.abort();
}

function row(t) {
  const state = h('span', { class: 'state', 'data-state': 'queued' }, '…');
  const bar = h('progress', { max: 1, value: 0, 'aria-label': `${t.kind} progress` });
  const counts = h('span', { class: 'counts' });
  const failures = h('ul', { class: 'failures' });
  const li = h('li', { class: 'job', 'data-kind': t.kind, 'data-id': t.id },
    h('div', { class: 'row' },
      h('strong', {}, t.kind === 'batch' ? 'Batch' : 'Job'), h('code', { title: t.id }, t.id.slice(0, 8)),
      h('span', {}, t.label || ''), h('span', { class: 'hint' }, formatDate(t.at)), state),
    h('div', { class: 'bars' }, bar, counts), failures);
  const r = {
    li, finished: false,
    update(v) {
      let s, done, total, finished, failed;
      if (t.kind === 'batch') {
        total = v.total; finished = v.succeeded + v.failed; failed = v.files.filter((f) => f.state === 'failed');
        done = v.done;
        s = done ? (v.failed ? 'failed' : 'succeeded') : (v.running ? 'running' : 'queued');
        counts.textContent = `${finished} / ${total} files` + (v.failed ? `, ${v.failed} failed` : '');
      } else {
        total = 1; done = v.state === 'succeeded' || v.state === 'failed'; finished = done ? 1 : 0;
        failed = v.state === 'failed' ? [v] : [];
        s = v.state;
        counts.textContent = `${v.filename || ''} · attempt ${v.attempts}`;
      }
      state.dataset.state = s;
      state.textContent = done && t.kind === 'batch' ? (v.failed ? `done, ${v.failed} failed` : 'done') : s;
      bar.max = Math.max(total, 1);
      bar.value = finished;
      failures.replaceChildren(...failed.map((f) => h('li', { class: 'error' },
        h('span', { class: 'name' }, f.filename || '(no name)'), ': ', jobErrorText(f))));
      li.dataset.done = String(done);
      r.finished = done;
    },
    fail(err) {
      state.dataset.state = 'failed';
      state.textContent = errorText(err);
      r.finished = err.status === 404;
    },
  };
  return r;
}
