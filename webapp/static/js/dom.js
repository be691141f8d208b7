// Tiny DOM helpers. Every piece of server text goes in as a text node: there is no innerHTML here.
const PROPS = new Set(['value', 'checked', 'disabled', 'hidden', 'selected', 'open']);

export function h(tag, attrs, ...children) {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs || {})) {
    if (v == null || v === false && !PROPS.has(k)) continue;
    if (k.startsWith('on') && typeof v === 'function') el.addEventListener(k.slice(2), v);
    else if (PROPS.has(k)) el[k] = v;
    else if (k === 'class') el.className = v;
    else el.setAttribute(k, v === true ? '' : v);
  }
  add(el, children);
  return el;
}

function add(el, children) {
  for (const c of children) {
    if (c == null || c === false) continue;
    if (Array.isArray(c)) add(el, c);
    else el.append(c instanceof Node ? c : document.createTextNode(String(c)));
  }
}

// replaceChildren that skips null/false and flattens arrays, as h() does
export function fill(el, ...children) {
  el.replaceChildren();
  add(el, children);
  return el;
}

export const $ = (sel, root = document) => root.querySelector(sel);

// A photo address from shop data: only same-site paths and https images are shown.
export const safeUrl = (u) => (typeof u === 'string' && /^(\/(?!\/)|https:\/\/)/.test(u) ? u : '');

let toastTimer;
export function toast(text, error) {
  const el = $('#toast');
  el.textContent = text;
  el.className = 'toast' + (error ? ' error' : '');
  el.hidden = false;
  clearTimeout(toastTimer);
  toastTimer = setTimeout(() => { el.hidden = true; }, error ? 4000 : 2000);
}

// Put text on the clipboard (a hidden field where the Clipboard API is refused) and say so.
export async function copyText(text, said) {
  try { await navigator.clipboard.writeText(text); } catch {
    const ta = h('textarea', { value: text });
    document.body.append(ta);
    ta.select();
    document.execCommand('copy');
    ta.remove();
  }
  toast(said);
}

// A <select> over [{id, name}] calling onChange(id).
export const select = (items, value, onChange, attrs) =>
  h('select', { ...attrs, onchange: (e) => onChange(e.target.value) },
    items.map((i) => h('option', { value: i.id, selected: i.id === value }, i.name)));

export const field = (label, control) => h('label', { class: 'field' }, h('span', {}, label), control);
