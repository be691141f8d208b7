// fetch wrapper: adds the launch data header, turns the JSON error into an ApiError with .code and .message.
import { t } from './i18n.js';

let authorization = '';
export const setAuth = (value) => { authorization = value; };
// The launch's start parameter (a referral, a gift, a group order...) on every call: the server records a
// first touch with the account whichever call comes first. Telegram's signed start_param wins on the server.
let start = '';
export const setStart = (value) => { start = /^[A-Za-z0-9_-]{1,64}$/.test(value || '') ? value : ''; };

// personal data: asks the person's consent when the server refuses a call for the lack of it (an order of any
// kind: a cart, a group, a gift); resolves true once it was given, and the call is made once more
let askConsent = null;
export const setConsentHandler = (fn) => { askConsent = fn; };

export class ApiError extends Error {
  constructor(code, message, status) {
    super(message);
    this.code = code;
    this.status = status;
  }
}

const base = new URL('api/', document.baseURI);

export async function api(path, options = {}) {
  try {
    return await call(path, options);
  } catch (e) {
    if (e.code !== 'consent_required' || !askConsent || !await askConsent()) throw e;
    return call(path, options);  // nothing was written: the same call, now with the consent
  }
}

async function call(path, { method = 'GET', body, raw, timeout = 20000 } = {}) {
  const headers = { Authorization: authorization };
  if (start) headers['X-Vitrina-Start'] = start;
  if (body !== undefined) headers['Content-Type'] = 'application/json';
  const ctl = new AbortController();
  const timer = setTimeout(() => ctl.abort(), timeout);
  let res;
  try {
    res = await fetch(new URL(path, base), {
      method, headers, body: body === undefined ? undefined : JSON.stringify(body), signal: ctl.signal,
    });
  } catch {
    throw new ApiError('network', t('network'), 0);
  } finally {
    clearTimeout(timer);
  }
  if (!res.ok) {
    let data = {};
    try { data = await res.json(); } catch { /* not JSON: a proxy's page */ }
    throw new ApiError(data.error || 'http_' + res.status, data.message || res.statusText || t('network'), res.status);
  }
  if (raw) return res;
  return res.status === 204 ? null : res.json();
}

export const post = (path, body = {}) => api(path, { method: 'POST', body });
