// Small DOM helpers. Every text goes in through textContent or attributes,
// never as HTML, so that a file name cannot inject markup.

// h builds an element: h('a', {href: '/x', class: 'y'}, 'text', child).
// Attributes named on* are event listeners; false/null attributes are left out.
export function h(tag, attrs = {}, ...children) {
  const el = tag === 'svg' || tag === 'polyline' || tag === 'path'
    ? document.createElementNS('http://www.w3.org/2000/svg', tag)
    : document.createElement(tag);
  for (const [name, value] of Object.entries(attrs || {})) {
    if (value === false || value === null || value === undefined) continue;
    if (name.startsWith('on') && typeof value === 'function') {
      el.addEventListener(name.slice(2), value);
    } else if (name === 'dataset') {
      Object.assign(el.dataset, value);
    } else {
      el.setAttribute(name, value === true ? '' : String(value));
    }
  }
  append(el, children);
  return el;
}

function append(el, children) {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// formatBytes writes 1536 as "1.5 KiB".
export function formatBytes(n) {
  if (n === null || n === undefined || Number.isNaN(n)) return '–';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let i = 0;
  while (Math.abs(n) >= 1024 && i < units.length - 1) { n /= 1024; i++; }
  return (i === 0 ? String(Math.round(n)) : n.toFixed(n < 10 ? 2 : 1)) + ' ' + units[i];
}

// formatCount writes 1234567 as "1,234,567".
export function formatCount(n) {
  return Number.isFinite(n) ? Math.round(n).toLocaleString('en') : '–';
}

export function formatDate(s) {
  const d = new Date(s);
  return Number.isNaN(d.getTime()) ? '' : d.toLocaleString();
}

// announce tells screen readers what changed.
export function announce(text) {
  const el = document.getElementById('announce');
  el.textContent = '';
  setTimeout(() => { el.textContent = text; }, 50);
}

// errorText shows an API error as "code: message".
export function errorText(err) {
  return err && err.code ? `${err.code}: ${err.message}` : String(err && err.message || err);
}
