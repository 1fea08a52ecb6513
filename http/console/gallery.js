// Gallery: the tenant's images, newest first, loaded a page at a time over
// the cursor API as the end of the list scrolls into view; thumbnails from
// the thumb variant; a filename filter over what is loaded (it loads more
// pages while the filter shows too few).
import { api, fetchBlob } from './api.js';
import { h, formatBytes, errorText } from './dom.js';

const pageSize = 24;

export function galleryPage(view) {
  const stop = new AbortController();
  const urls = [];
  const filter = h('input', { type: 'search', id: 'filter', placeholder: 'photo.jpg', autocomplete: 'off' });
  const grid = h('ul', { class: 'gallery', id: 'gallery' });
  const status = h('p', { class: 'hint', id: 'gallery-status', 'aria-live': 'polite' }, 'Loading…');
  const sentinel = h('div', { class: 'sentinel', 'aria-hidden': 'true' });
  view.append(
    h('h1', {}, 'Gallery'),
    h('div', { class: 'toolbar' }, h('label', { for: 'filter' }, 'Filter by file name'), filter),
    grid, status, sentinel);

  let cursor = '';
  let more = true;
  let count = 0;

  const matches = (card) => card.dataset.filename.toLowerCase().includes(filter.value.trim().toLowerCase());
  function applyFilter() {
    let shown = 0;
    for (const card of grid.children) {
      card.hidden = !matches(card);
      if (!card.hidden) shown++;
    }
    if (count === 0 && !more) status.textContent = 'No images yet.';
    else if (!more) status.textContent = filter.value ? `${shown} of ${count} images match.` : `All ${count} images shown.`;
    else status.textContent = filter.value ? `${shown} matching so far; loading more…` : '';
    return shown;
  }
  filter.addEventListener('input', () => { applyFilter(); fill(); });

  async function loadPage() {
    if (!more) return;
    status.textContent = 'Loading…';
    try {
      const page = await api(`/v1/images?limit=${pageSize}` + (cursor ? '&cursor=' + cursor : ''), { signal: stop.signal });
      for (const img of page.images) grid.append(card(img));
      count += page.images.length;
      cursor = page.next_cursor || '';
      more = !!cursor;
    } catch (err) {
      if (stop.signal.aborted) return;
      status.textContent = 'Could not load images: ' + errorText(err);
      more = false;
      return;
    }
    applyFilter();
  }

  // fill loads pages, one at a time, while the end of the list is on
  // screen. Only one fill runs: a second caller returns at once.
  let filling = false;
  async function fill() {
    if (filling) return;
    filling = true;
    try {
      while (more && !stop.signal.aborted && sentinel.getBoundingClientRect().top < window.innerHeight + 400) {
        await loadPage();
      }
    } finally {
      filling = false;
    }
  }

  function card(img) {
    const thumb = (img.variants || []).find((v) => v.name === 'thumb');
    const picture = h('div', { class: 'thumb' });
    if (thumb) {
      const el = h('img', { alt: img.filename || img.id, width: thumb.width, height: thumb.height, loading: 'lazy' });
      picture.append(el);
      fetchBlob(thumb.url || `/v1/images/${img.id}/variants/thumb`, { signal: stop.signal }).then((b) => {
        const u = URL.createObjectURL(b);
        urls.push(u);
        el.src = u;
      }, () => { picture.classList.add('missing'); });
    } else {
      picture.append(h('span', { class: 'placeholder' }, img.status === 'processing' ? 'processing' : img.status));
    }
    return h('li', { class: 'card', 'data-filename': img.filename || '', 'data-id': img.id },
      h('a', { href: '/ui/images/' + img.id, 'data-link': true },
        picture,
        h('span', { class: 'name' }, img.filename || img.id.slice(0, 12)),
        h('span', { class: 'meta' }, `${img.width}×${img.height} · ${img.format} · ${formatBytes(img.bytes)}`)));
  }

  const observer = new IntersectionObserver((entries) => {
    if (entries.some((e) => e.isIntersecting)) fill();
  }, { rootMargin: '400px' });
  observer.observe(sentinel);
  fill();

  return () => {
    stop.abort();
    observer.disconnect();
    for (const u of urls) URL.revokeObjectURL(u);
  };
}
