// Building and finding elements. Pages are server-rendered shells (api/ui/pages.tsx); this code
// only fills their regions, so a small element builder is all it needs.

/** What an element can contain: nested arrays are flattened, null/undefined/false skipped. */
export type Child = Node | string | number | null | undefined | false | readonly Child[];

type Attrs = Record<string, string | number | boolean | null | undefined>;

export function h<K extends keyof HTMLElementTagNameMap>(tag: K, attrs?: Attrs | null, ...children: Child[]): HTMLElementTagNameMap[K] {
  const el = document.createElement(tag);
  for (const [k, v] of Object.entries(attrs ?? {})) {
    if (v === undefined || v === null || v === false) continue;
    if (k === 'class') el.className = String(v);
    else if (k === 'value' && 'value' in el) el.value = String(v);
    else el.setAttribute(k, v === true ? '' : String(v));
  }
  append(el, children);
  return el;
}

function append(el: Element, children: readonly Child[]): void {
  for (const c of children) {
    if (c === null || c === undefined || c === false) continue;
    if (Array.isArray(c)) append(el, c);
    else el.append(c instanceof Node ? c : String(c));
  }
}

type ElementType<T extends Element> = abstract new (...args: never[]) => T;

/** The shell's element, checked to be what the code expects: a missing or changed shell fails loudly. */
export function $(selector: string): HTMLElement;
export function $<T extends Element>(selector: string, type: ElementType<T>, root?: ParentNode): T;
export function $(selector: string, type: ElementType<Element> = HTMLElement, root: ParentNode = document): Element {
  const el = root.querySelector(selector);
  if (el instanceof type) return el;
  throw new Error(`AgentView: ${selector} is ${el === null ? 'missing' : `a ${(el as Element).tagName}`}, not a ${type.name}`);
}

/** A named control of a form, e.g. an input. */
export function control(form: HTMLFormElement, name: string): HTMLInputElement {
  const el = form.elements.namedItem(name);
  if (!(el instanceof HTMLInputElement)) throw new Error(`AgentView: the form has no input ${name}`);
  return el;
}

/** The button that submitted a form, to disable while its action runs. */
export const submitter = (ev: SubmitEvent) => (ev.submitter instanceof HTMLButtonElement ? ev.submitter : null);
