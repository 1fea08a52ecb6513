// The console's only way to the API. The key lives in sessionStorage (this
// tab only, gone when it closes) and goes out as a Bearer header; it is
// never put in a URL or a cookie.

const keyName = 'hotpath.apiKey';

export function apiKey() { return sessionStorage.getItem(keyName); }
export function setAPIKey(k) { sessionStorage.setItem(keyName, k); }
export function forgetAPIKey() { sessionStorage.removeItem(keyName); }

// APIError is an error answer of the API: {"error":{"code","message"}}.
export class APIError extends Error {
  constructor(status, code, message) {
    super(message);
    this.status = status;
    this.code = code;
  }
}

async function errorFrom(resp) {
  try {
    const body = await resp.json();
    if (body && body.error) return new APIError(resp.status, body.error.code, body.error.message);
  } catch { /* not JSON */ }
  return new APIError(resp.status, 'http_' + resp.status, resp.statusText || 'request failed');
}

function authHeaders(extra = {}) {
  const h = { ...extra };
  const k = apiKey();
  if (k) h.Authorization = 'Bearer ' + k;
  return h;
}

// api sends one request and returns its JSON body (null for 204).
export async function api(path, { method = 'GET', json, signal } = {}) {
  const opts = { method, headers: authHeaders(), signal, cache: 'no-store' };
  if (json !== undefined) {
    opts.headers['Content-Type'] = 'application/json';
    opts.body = JSON.stringify(json);
  }
  const resp = await fetch(path, opts);
  if (!resp.ok) throw await errorFrom(resp);
  if (resp.status === 204) return null;
  return resp.json();
}

// fetchBlob fetches an authenticated binary (an original, a variant) and
// returns the response's blob; img elements cannot send the header.
export async function fetchBlob(path, { signal } = {}) {
  const resp = await fetch(path, { headers: authHeaders(), signal });
  if (!resp.ok) throw await errorFrom(resp);
  return resp.blob();
}

// send posts body with XMLHttpRequest, which, unlike fetch, reports upload
// progress: onProgress(sentBytes, totalBytes). It resolves with
// {status, body} for any answer and rejects only when no answer came.
export function send(method, path, body, { contentType, onProgress, signal } = {}) {
  return new Promise((resolve, reject) => {
    const xhr = new XMLHttpRequest();
    xhr.open(method, path);
    for (const [k, v] of Object.entries(authHeaders())) xhr.setRequestHeader(k, v);
    if (contentType) xhr.setRequestHeader('Content-Type', contentType);
    xhr.responseType = 'json';
    if (onProgress) xhr.upload.onprogress = (e) => onProgress(e.loaded, e.lengthComputable ? e.total : 0);
    xhr.onload = () => resolve({ status: xhr.status, body: xhr.response });
    xhr.onerror = () => reject(new APIError(0, 'network', 'the upload was interrupted (network error)'));
    xhr.onabort = () => reject(new APIError(0, 'aborted', 'the upload was cancelled'));
    if (signal) signal.addEventListener('abort', () => xhr.abort());
    xhr.send(body);
  });
}

// errorOf returns the APIError of a send() answer, or null when it succeeded.
export function errorOf(res) {
  if (res.status >= 200 && res.status < 300) return null;
  const e = res.body && res.body.error;
  return e ? new APIError(res.status, e.code, e.message) : new APIError(res.status, 'http_' + res.status, 'request failed');
}

// Tracked background work (async jobs, batches) started from this tab, so
// that the Jobs page can follow it: the API lists no jobs, only answers for
// one id.
const trackedName = 'hotpath.tracked';

export function tracked() {
  try { return JSON.parse(sessionStorage.getItem(trackedName)) || []; } catch { return []; }
}

export function track(kind, id, label) {
  const list = tracked().filter((t) => t.id !== id);
  list.unshift({ kind, id, label, at: new Date().toISOString() });
  sessionStorage.setItem(trackedName, JSON.stringify(list.slice(0, 200)));
}
