// One image: its original and variants side by side with their sizes and
// bytes, its metadata, and delete (with a confirmation dialog) for keys
// that may write.
import { api, fetchBlob } from './api.js';
import { h, formatBytes, formatDate, announce, errorText } from './dom.js';

export function imagePage(view, ctx, id) {
  const stop = new AbortController();
  const urls = [];
  const heading = h('h1', {}, 'Image');
  const body = h('div', {}, h('p', { class: 'hint' }, 'Loading…'));
  view.append(h('p', { class: 'back' }, h('a', { href: '/ui/gallery', 'data-link': true }, '← Gallery')), heading, body);

  api('/v1/images/' + id, { signal: stop.signal }).then(show, (err) => {
    if (stop.signal.aborted) return;
    body.replaceChildren(h('p', { class: 'error', role: 'alert' }, errorText(err)));
  });

  function show(img) {
    heading.textContent = img.filename || img.id;
    const renditions = [
      { name: 'original', width: img.width, height: img.height, format: img.format, bytes: img.bytes, url: img.original_url },
      ...(img.variants || []),
    ];
    const figures = renditions.map((v) => {
      const el = h('img', { alt: `${v.name} of ${img.filename || img.id}`, width: v.width, height: v.height });
      fetchBlob(v.url, { signal: stop.signal }).then((b) => {
        const u = URL.createObjectURL(b);
        urls.push(u);
        el.src = u;
      }, () => {});
      return h('figure', { class: 'variant', 'data-variant': v.name },
        h('div', { class: 'frame' }, el),
        h('figcaption', {}, h('strong', {}, v.name), h('span', {}, `${v.width}×${v.height} ${v.format}`), h('span', {}, formatBytes(v.bytes))));
    });
    const meta = [
      ['ID', img.id], ['File name', img.filename || '–'], ['Format', img.format], ['Size', `${img.width}×${img.height}`],
      ['Bytes', `${formatBytes(img.bytes)} (${img.bytes.toLocaleString('en')})`], ['Status', img.status],
      ['Uploaded', formatDate(img.created_at)], ['SHA-256', img.sha256],
    ];
    if (img.error) meta.push(['Error', img.error]);
    const actions = h('div', { class: 'actions' },
      h('a', { class: 'button secondary', href: '/ui/playground?image=' + img.id, 'data-link': true }, 'Open in playground'));
    if (ctx.session.canWrite) actions.append(deleteButton(img));
    body.replaceChildren(
      actions,
      h('section', { 'aria-label': 'Variants' }, h('div', { class: 'variants' }, figures)),
      h('section', { class: 'panel', 'aria-labelledby': 'meta-title' },
        h('h2', { id: 'meta-title' }, 'Metadata'),
        h('dl', { class: 'meta' }, meta.map(([k, v]) => [h('dt', {}, k), h('dd', {}, v)]))));
  }

  function deleteButton(img) {
    const name = img.filename || img.id;
    const error = h('p', { class: 'error', role: 'alert' });
    const confirmButton = h('button', { type: 'button', class: 'danger', id: 'confirm-delete' }, 'Delete');
    const dialog = h('dialog', { 'aria-labelledby': 'delete-title' },
      h('h2', { id: 'delete-title' }, `Delete ${name}?`),
      h('p', {}, 'The original and every variant are removed. This cannot be undone.'),
      error,
      h('div', { class: 'actions' },
        h('button', { type: 'button', class: 'secondary', onclick: () => dialog.close() }, 'Cancel'),
        confirmButton));
    confirmButton.addEventListener('click', async () => {
      confirmButton.disabled = true;
      try {
        await api('/v1/images/' + img.id, { method: 'DELETE' });
        dialog.close();
        announce(`Deleted ${name}`);
        ctx.navigate('/ui/gallery');
      } catch (err) {
        error.textContent = errorText(err);
        confirmButton.disabled = false;
      }
    });
    view.append(dialog);
    return h('button', { type: 'button', class: 'danger', id: 'delete', onclick: () => dialog.showModal() }, 'Delete…');
  }

  return () => {
    stop.abort();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
