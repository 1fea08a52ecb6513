// Transform playground: pick an image and options, have the server sign
// the URL (POST /v1/sign: the signing key never reaches the browser), fetch
// the result and show it with its size, bytes and time, and the URL to copy.
import { api } from './api.js';
import { h, formatBytes, errorText, announce } from './dom.js';

const fits = [['', 'default (fit)'], ['fit', 'fit (inside)'], ['fill', 'fill (crop)'], ['pad', 'pad'], ['force', 'force (stretch)']];
const gravities = ['', 'centre', 'north', 'south', 'east', 'west', 'smart', 'entropy'];
const formats = [['', 'keep the input format'], ['jpeg', 'JPEG'], ['png', 'PNG'], ['webp', 'WebP'], ['avif', 'AVIF'], ['auto', 'auto (by Accept)']];

function field(id, label, control, hint) {
  control.id = id;
  return h('div', { class: 'field' }, h('label', { for: id }, label), control, hint ? h('span', { class: 'hint' }, hint) : null);
}

function select(options) {
  return h('select', {}, options.map((o) => Array.isArray(o) ? h('option', { value: o[0] }, o[1]) : h('option', { value: o }, o || 'default')));
}

export function playgroundPage(view, ctx) {
  const stop = new AbortController();
  let resultURL = null;
  const image = h('select', { required: true }, h('option', { value: '' }, 'Loading images…'));
  const width = h('input', { type: 'number', min: 1, max: 8192, inputmode: 'numeric', value: 400 });
  const height = h('input', { type: 'number', min: 1, max: 8192, inputmode: 'numeric' });
  const fit = select(fits);
  const gravity = select(gravities);
  const format = select(formats);
  const quality = h('input', { type: 'number', min: 1, max: 100, inputmode: 'numeric', placeholder: 'default' });
  const dpr = h('input', { type: 'number', min: 0.5, max: 8, step: 0.5, placeholder: '1' });
  const background = h('input', { type: 'text', placeholder: 'ffffff', pattern: '[0-9a-fA-F]{6}', autocomplete: 'off' });
  const extra = h('input', { type: 'text', placeholder: 'meta:1', autocomplete: 'off', spellcheck: 'false' });
  const preview = h('code', { id: 'options-preview' });
  const run = h('button', { type: 'submit', id: 'run' }, 'Transform');
  const error = h('p', { class: 'error', role: 'alert', id: 'playground-error' });
  const result = h('img', { id: 'result', alt: 'Transform result' });
  const stats = h('dl', { class: 'meta', id: 'result-stats' });
  const signed = h('input', { type: 'text', readonly: true, id: 'signed-url', 'aria-label': 'Signed URL' });
  const copy = h('button', { type: 'button', class: 'secondary', id: 'copy' }, 'Copy');
  const output = h('section', { class: 'panel output', 'aria-labelledby': 'result-title', hidden: true },
    h('h2', { id: 'result-title' }, 'Result'), h('div', { class: 'frame result' }, result), stats,
    h('div', { class: 'copyrow' }, h('label', { for: 'signed-url' }, 'Signed URL'), signed, copy));

  const form = h('form', { class: 'panel playground', novalidate: true },
    field('pg-image', 'Image', image),
    h('div', { class: 'grid' },
      field('pg-width', 'Width', width), field('pg-height', 'Height', height),
      field('pg-fit', 'Fit', fit), field('pg-gravity', 'Gravity', gravity, 'with fill'),
      field('pg-format', 'Format', format), field('pg-quality', 'Quality', quality, '1–100'),
      field('pg-dpr', 'Pixel ratio', dpr), field('pg-bg', 'Background', background, 'hex, with pad')),
    field('pg-extra', 'More options', extra, 'name:value pairs, comma-separated (docs/transforms.md)'),
    h('p', {}, 'Options: ', preview),
    run, error);
  view.append(h('h1', {}, 'Transform playground'), form, output);

  if (!ctx.session.can_sign) {
    error.textContent = ctx.session.canWrite
      ? 'This server has no signing key (--signing-keys), so it signs no transform URL.'
      : 'Signing transform URLs needs a key with scope write; this key is read-only.';
    run.disabled = true;
  }

  function options() {
    const parts = [];
    const add = (name, el) => { if (el.value.trim() !== '') parts.push(name + ':' + el.value.trim()); };
    add('w', width); add('h', height); add('dpr', dpr); add('fit', fit); add('g', gravity);
    add('q', quality); add('f', format); add('bg', background);
    if (extra.value.trim()) parts.push(extra.value.trim());
    return parts.join(',') || '-';
  }
  const update = () => { preview.textContent = options(); };
  form.addEventListener('input', update);
  update();

  api('/v1/images?limit=100', { signal: stop.signal }).then((page) => {
    const wanted = ctx.query.get('image');
    image.replaceChildren(...page.images.map((img) =>
      h('option', { value: img.id, selected: img.id === wanted }, `${img.filename || img.id} (${img.width}×${img.height})`)));
    if (wanted && !page.images.some((img) => img.id === wanted)) {
      image.prepend(h('option', { value: wanted, selected: true }, wanted));
    }
    if (image.options.length === 0) {
      image.append(h('option', { value: '' }, 'No images yet: upload one first'));
      run.disabled = true;
    }
  }, (err) => { if (!stop.signal.aborted) error.textContent = errorText(err); });

  form.addEventListener('submit', async (e) => {
    e.preventDefault();
    error.textContent = '';
    if (!image.value) { error.textContent = 'Choose an image.'; return; }
    run.disabled = true;
    try {
      const s = await api('/v1/sign', { method: 'POST', json: { image_id: image.value, options: options() }, signal: stop.signal });
      const t0 = performance.now();
      const resp = await fetch(s.path, { signal: stop.signal, cache: 'no-store' });
      if (!resp.ok) {
        const body = await resp.json().catch(() => ({}));
        throw body.error ? body.error : new Error(resp.statusText);
      }
      const blob = await resp.blob();
      const ms = performance.now() - t0;
      if (resultURL) URL.revokeObjectURL(resultURL);
      resultURL = URL.createObjectURL(blob);
      await new Promise((resolve, reject) => {
        result.onload = resolve;
        result.onerror = () => reject(new Error('the browser cannot show this format'));
        result.src = resultURL;
      });
      signed.value = location.origin + s.path;
      stats.replaceChildren(...[
        ['Size', `${result.naturalWidth}×${result.naturalHeight}`],
        ['Bytes', formatBytes(blob.size)],
        ['Type', blob.type],
        ['Time', `${ms.toFixed(0)} ms`],
        ['Options', s.options],
      ].flatMap(([k, v]) => [h('dt', {}, k), h('dd', { 'data-stat': k.toLowerCase() }, v)]));
      output.hidden = false;
      announce(`Result ${result.naturalWidth} by ${result.naturalHeight}, ${formatBytes(blob.size)}`);
    } catch (err) {
      if (!stop.signal.aborted) error.textContent = errorText(err);
    } finally {
      run.disabled = false;
    }
  });

  copy.addEventListener('click', async () => {
    try {
      await navigator.clipboard.writeText(signed.value);
      copy.textContent = 'Copied';
    } catch {
      signed.select(); // no clipboard permission: leave it selected to copy by hand
      copy.textContent = 'Selected';
    }
    setTimeout(() => { copy.textContent = 'Copy'; }, 1500);
  });

  return () => {
    stop.abort();
    if (resultURL) URL.revokeObjectURL(resultURL);
  };
}
