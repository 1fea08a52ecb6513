// The console's shell: sign-in, navigation between pages by URL
// (/ui/gallery, /ui/images/ID, ...) and the signed-in key's identity.
import { api, apiKey, setAPIKey, forgetAPIKey } from './api.js';
import { announce, errorText } from './dom.js';
import { uploadPage } from './upload.js';
import { galleryPage } from './gallery.js';
import { imagePage } from './image.js';
import { playgroundPage } from './playground.js';
import { jobsPage } from './jobs.js';
import { healthPage } from './health.js';

// session is who is signed in: the /v1/whoami answer, with canWrite.
let session = null;
let cleanup = null;

const routes = [
  { re: /^\/ui\/upload$/, page: uploadPage, needs: 'write' },
  { re: /^\/ui\/gallery$/, page: galleryPage },
  { re: /^\/ui\/images\/([0-9a-f]{32})$/, page: imagePage },
  { re: /^\/ui\/playground$/, page: playgroundPage },
  { re: /^\/ui\/jobs$/, page: jobsPage },
  { re: /^\/ui\/health$/, page: healthPage },
];

// navigate shows the page of path and records it in the history.
export function navigate(path, { replace = false } = {}) {
  if (replace) history.replaceState(null, '', path);
  else history.pushState(null, '', path);
  render();
}

function defaultPath() { return session && session.canWrite ? '/ui/upload' : '/ui/gallery'; }

async function render() {
  if (cleanup) { cleanup(); cleanup = null; }
  const view = document.getElementById('view');
  view.replaceChildren();
  if (!session) return;
  let path = location.pathname;
  let route = routes.find((r) => r.re.test(path));
  if (!route || (route.needs === 'write' && !session.canWrite)) {
    path = defaultPath();
    history.replaceState(null, '', path + location.search);
    route = routes.find((r) => r.re.test(path));
  }
  for (const a of document.querySelectorAll('#nav a')) {
    if (a.getAttribute('href') === path || (path.startsWith('/ui/images/') && a.getAttribute('href') === '/ui/gallery')) a.setAttribute('aria-current', 'page');
    else a.removeAttribute('aria-current');
  }
  const params = path.match(route.re).slice(1);
  const ctx = { session, navigate, query: new URLSearchParams(location.search) };
  cleanup = route.page(view, ctx, ...params) || null;
  // Move focus to the new page's heading, so that keyboard and screen
  // reader users land on what changed.
  const heading = view.querySelector('h1');
  if (heading) {
    heading.tabIndex = -1;
    heading.focus({ preventScroll: true });
    document.title = heading.textContent + ' · hotpath';
  }
}

async function signIn(key) {
  setAPIKey(key);
  const who = await api('/v1/whoami');
  session = { ...who, canWrite: ['write', 'admin'].includes(who.key.scope) };
  document.getElementById('tenant').textContent = who.tenant.name || who.tenant.id;
  const scope = document.getElementById('scope');
  scope.textContent = who.key.scope === 'read' ? 'read-only key' : who.key.scope + ' key';
  scope.dataset.scope = who.key.scope;
  scope.title = `key ${who.key.name || ''} (${who.key.prefix}…)`;
  for (const li of document.querySelectorAll('#nav [data-needs="write"]')) li.hidden = !session.canWrite;
  document.getElementById('signin').hidden = true;
  document.getElementById('nav').hidden = false;
  document.getElementById('identity').hidden = false;
  announce(`Signed in to tenant ${who.tenant.id} with a ${who.key.scope} key`);
}

function showSignIn(message = '') {
  session = null;
  if (cleanup) { cleanup(); cleanup = null; }
  document.getElementById('view').replaceChildren();
  document.getElementById('nav').hidden = true;
  document.getElementById('identity').hidden = true;
  document.getElementById('signin').hidden = false;
  document.getElementById('signin-error').textContent = message;
  document.title = 'Sign in · hotpath';
  document.getElementById('apikey').focus();
}

function start() {
  document.getElementById('signin-form').addEventListener('submit', async (e) => {
    e.preventDefault();
    const input = document.getElementById('apikey');
    const key = input.value.trim();
    if (!key) { showSignIn('Enter an API key.'); return; }
    try {
      await signIn(key);
      input.value = '';
      if (!location.pathname.startsWith('/ui/')) history.replaceState(null, '', defaultPath());
      render();
    } catch (err) {
      forgetAPIKey();
      showSignIn(err.status === 401 ? 'That key is not valid (unknown or revoked).' : 'Sign-in failed: ' + errorText(err));
    }
  });
  document.getElementById('signout').addEventListener('click', () => {
    forgetAPIKey();
    history.replaceState(null, '', '/');
    showSignIn('Signed out.');
  });
  // Links marked data-link change the page without reloading it.
  document.addEventListener('click', (e) => {
    const a = e.target.closest('a[data-link]');
    if (!a || e.defaultPrevented || e.button !== 0 || e.metaKey || e.ctrlKey || e.shiftKey || e.altKey) return;
    e.preventDefault();
    if (!session) return;
    navigate(a.getAttribute('href') === '/' ? defaultPath() : a.getAttribute('href'));
  });
  window.addEventListener('popstate', render);
  // An API answer of 401 anywhere means the key was revoked meanwhile.
  window.addEventListener('unhandledrejection', (e) => {
    if (e.reason && e.reason.status === 401) showSignIn('Your key is no longer valid: sign in again.');
  });
  const key = apiKey();
  if (!key) { showSignIn(); return; }
  signIn(key).then(() => {
    if (!location.pathname.startsWith('/ui/')) history.replaceState(null, '', defaultPath());
    render();
  }, (err) => {
    forgetAPIKey();
    showSignIn(err.status === 401 ? 'Your key is no longer valid: sign in again.' : 'Sign-in failed: ' + errorText(err));
  });
}

start();
