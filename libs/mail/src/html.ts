const ESCAPES: Record<string, string> = { '&': '&amp;', '<': '&lt;', '>': '&gt;', '"': '&quot;', "'": '&#39;' };

/** Markup that is already safe: the result of `html`, inserted by another `html` as it is. */
export class Html {
  constructor(readonly value: string) {}

  toString(): string {
    return this.value;
  }
}

/** What a template may interpolate: text (escaped), markup built by `html`, or nothing. */
export type Interpolation = string | number | Html | readonly Html[] | null | undefined | false;

/** Text made safe for HTML content and for a double- or single-quoted attribute value. */
export function escapeHtml(text: string): string {
  return text.replace(/[&<>"']/g, (c) => ESCAPES[c] ?? c);
}

/**
 * A tagged template for HTML in which every interpolation is escaped unless it is `Html`. Names
 * and emails (the invite page, the invite mail) are data a client sent: `<script>` in a first name is text.
 */
export function html(strings: TemplateStringsArray, ...values: Interpolation[]): Html {
  let out = strings[0] ?? '';
  values.forEach((value, i) => {
    out += render(value) + (strings[i + 1] ?? '');
  });
  return new Html(out);
}

function render(value: Interpolation): string {
  if (value instanceof Html) return value.value;
  if (Array.isArray(value)) return (value as readonly Html[]).map((part) => part.value).join('');
  if (value === null || value === undefined || value === false) return '';
  return escapeHtml(String(value));
}
