// Upload: drop or pick many files. Each goes in its own request with its
// own progress bar (XMLHttpRequest reports bytes sent), then shows its
// variants or the error's code and message. A large selection, or any
// selection with "send as one batch" checked, goes as one multipart
// POST /v1/batches, followed through GET /v1/batches/{id}.
import { api, send, errorOf, track } from './api.js';
import { h, formatBytes, announce, errorText } from './dom.js';

// batchThreshold: selections larger than this go as one batch.
const batchThreshold = 10;
// parallelUploads bounds concurrent single-file uploads.
const parallelUploads = 3;
const pollMs = 700;

export function uploadPage(view) {
  const stop = new AbortController();
  const asyncBox = h('input', { type: 'checkbox', id: 'opt-async' });
  const batchBox = h('input', { type: 'checkbox', id: 'opt-batch' });
  const input = h('input', { type: 'file', id: 'files', multiple: true, class: 'visually-hidden', 'aria-describedby': 'drop-help' });
  const drop = h('label', { for: 'files', class: 'drop', id: 'drop' },
    h('span', { class: 'drop-title' }, 'Drop images here, or choose files'),
    h('span', { id: 'drop-help', class: 'hint' }, `JPEG, PNG, WebP, GIF, AVIF/HEIF or TIFF. More than ${batchThreshold} files go as one batch.`));
  const list = h('ul', { class: 'uploads', id: 'uploads', 'aria-live': 'polite' });

  view.append(
    h('h1', {}, 'Upload'),
    h('section', { class: 'panel', 'aria-label': 'Upload options' },
      h('div', { class: 'options' },
        h('div', { class: 'check' }, asyncBox, h('label', { for: 'opt-async' }, 'Process in the background (async: answers at once, variants follow)')),
        h('div', { class: 'check' }, batchBox, h('label', { for: 'opt-batch' }, 'Send as one batch'))),
      input, drop),
    list);

  // Keyboard: the label is focusable through the input; show focus on it.
  input.addEventListener('focus', () => drop.classList.add('focus'));
  input.addEventListener('blur', () => drop.classList.remove('focus'));
  input.addEventListener('change', () => {
    const files = [...input.files];
    input.value = '';
    start(files);
  });
  for (const ev of ['dragenter', 'dragover']) {
    drop.addEventListener(ev, (e) => { e.preventDefault(); drop.classList.add('over'); });
  }
  for (const ev of ['dragleave', 'drop']) {
    drop.addEventListener(ev, () => drop.classList.remove('over'));
  }
  drop.addEventListener('drop', (e) => {
    e.preventDefault();
    start([...e.dataTransfer.files]);
  });

  function start(files) {
    if (files.length === 0) return;
    if (batchBox.checked || files.length > batchThreshold) uploadBatch(files);
    else uploadEach(files);
  }

  async function uploadEach(files) {
    announce(`Uploading ${files.length} file${files.length === 1 ? '' : 's'}`);
    const rows = files.map((f) => fileRow(f));
    for (const r of rows) list.prepend(r.li);
    let next = 0;
    const worker = async () => {
      while (next < files.length) {
        const i = next++;
        await uploadOne(files[i], rows[i]);
      }
    };
    await Promise.all(Array.from({ length: Math.min(parallelUploads, files.length) }, worker));
  }

  async function uploadOne(file, row) {
    const isAsync = asyncBox.checked;
    const url = '/v1/images?filename=' + encodeURIComponent(file.name) + (isAsync ? '&async=true' : '');
    row.state('uploading');
    let res;
    try {
      res = await send('POST', url, file, {
        contentType: file.type || 'application/octet-stream',
        signal: stop.signal,
        onProgress: (sent, total) => row.progress(sent, total || file.size),
      });
    } catch (err) {
      row.fail(err);
      return;
    }
    const err = errorOf(res);
    if (err) { row.fail(err); return; }
    row.progress(file.size, file.size);
    if (res.status === 202) {
      const job = res.body.job;
      track('job', job.id, file.name);
      row.state('processing');
      const done = await followJob(job.id);
      if (!done) return;
      if (done.state === 'failed') {
        const e = done.result && done.result.error;
        row.fail(e ? { code: e.code, message: e.message } : { message: done.error || 'failed' });
        return;
      }
      row.done(await api('/v1/images/' + done.image_id));
      return;
    }
    row.done(res.body);
  }

  async function followJob(id) {
    while (!stop.signal.aborted) {
      const j = await api('/v1/jobs/' + id).catch(() => null);
      if (j && (j.state === 'succeeded' || j.state === 'failed')) return j;
      await sleep(pollMs, stop.signal);
    }
    return null;
  }

  async function uploadBatch(files) {
    const total = files.reduce((n, f) => n + f.size, 0);
    announce(`Uploading ${files.length} files as one batch`);
    const sent = h('progress', { max: total, value: 0, 'aria-label': 'Bytes sent' });
    const done = h('progress', { max: files.length, value: 0, 'aria-label': 'Files processed', class: 'batch-progress' });
    const stateText = h('span', { class: 'state', 'data-state': 'uploading' }, 'uploading');
    const counts = h('span', { class: 'counts' }, `0 / ${files.length}`);
    const fileList = h('ul', { class: 'batch-files' });
    const li = h('li', { class: 'upload batch' },
      h('div', { class: 'row' }, h('strong', {}, `Batch of ${files.length} files`), h('span', { class: 'size' }, formatBytes(total)), stateText),
      h('div', { class: 'bars' }, h('label', {}, 'Sent', sent), h('label', {}, 'Processed', done), counts),
      fileList);
    list.prepend(li);
    const form = new FormData();
    for (const f of files) form.append('file', f, f.name);
    let res;
    try {
      res = await send('POST', '/v1/batches', form, { signal: stop.signal, onProgress: (s) => { sent.value = s; } });
    } catch (err) {
      setState(stateText, 'failed', errorText(err));
      return;
    }
    const err = errorOf(res);
    if (err) { setState(stateText, 'failed', errorText(err)); return; }
    sent.value = total;
    let b = res.body;
    li.dataset.batch = b.id;
    track('batch', b.id, `${files.length} files`);
    setState(stateText, 'processing', 'processing');
    while (!stop.signal.aborted) {
      const finished = b.succeeded + b.failed;
      done.max = b.total;
      done.value = finished;
      counts.textContent = `${finished} / ${b.total}` + (b.failed ? ` (${b.failed} failed)` : '');
      fileList.replaceChildren(...b.files.map((f) => h('li', { 'data-state': f.state },
        h('span', { class: 'name' }, f.filename || '(no name)'), ' ',
        h('span', { class: 'state', 'data-state': f.state }, f.state),
        f.state === 'failed' ? h('span', { class: 'error' }, ' ' + jobErrorText(f)) : null)));
      if (b.done) {
        setState(stateText, b.failed ? 'failed' : 'succeeded', b.failed ? `done, ${b.failed} failed` : 'done');
        li.dataset.done = 'true';
        announce(`Batch done: ${b.succeeded} stored, ${b.failed} failed`);
        return;
      }
      await sleep(pollMs, stop.signal);
      b = await api('/v1/batches/' + b.id).catch(() => b);
    }
  }

  return () => stop.abort();
}

// jobErrorText is a failed job's code and message.
export function jobErrorText(j) {
  const e = j.result && j.result.error;
  return e ? `${e.code}: ${e.message}` : (j.error || '');
}

function setState(el, state, text) {
  el.dataset.state = state;
  el.textContent = text;
}

function sleep(ms, signal) {
  return new Promise((resolve) => {
    const t = setTimeout(resolve, ms);
    signal.addEventListener('abort', () => { clearTimeout(t); resolve(); });
  });
}

// fileRow is the list entry of one file: name, size, progress bar, state,
// then its result.
function fileRow(file) {
  const bar = h('progress', { max: file.size || 1, value: 0, 'aria-label': `${file.name}: bytes sent` });
  const stateText = h('span', { class: 'state', 'data-state': 'queued' }, 'queued');
  const result = h('div', { class: 'result' });
  const li = h('li', { class: 'upload', 'data-file': file.name },
    h('div', { class: 'row' }, h('strong', { class: 'name' }, file.name), h('span', { class: 'size' }, formatBytes(file.size)), stateText),
    bar, result);
  return {
    li,
    state: (s) => { setState(stateText, s, s); li.dataset.state = s; },
    progress: (sent, total) => { bar.max = total || 1; bar.value = sent; },
    fail: (err) => {
      setState(stateText, 'failed', 'failed');
      li.dataset.state = 'failed';
      result.replaceChildren(h('p', { class: 'error', role: 'alert' },
        h('code', { class: 'code' }, err.code || 'error'), ' ', err.message || String(err)));
    },
    done: (img) => {
      setState(stateText, 'stored', 'stored');
      li.dataset.state = 'stored';
      li.dataset.image = img.id;
      result.replaceChildren(
        h('a', { href: '/ui/images/' + img.id, 'data-link': true }, `${img.width}×${img.height} ${img.format}`),
        h('ul', { class: 'variants-inline' }, (img.variants || []).map((v) =>
          h('li', {}, h('strong', {}, v.name), ` ${v.width}×${v.height} ${v.format}, ${formatBytes(v.bytes)}`))));
    },
  };
}
