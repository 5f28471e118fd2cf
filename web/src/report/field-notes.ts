/**
 * The one place a report turns field notes into HTML: Markdown rendered with marked and sanitized with
 * DOMPurify (the web app's renderer), then stripped of every attribute that would load something (an image
 * from a relative path or the web), since a report must open with no request at all: such an image shows
 * its alt text instead. Notes in another markup get converted here before rendering.
 */
import { renderMarkdown } from '../components/Markdown.js';

/** Attributes that make the browser fetch something as soon as the element is in the page. */
const LOADING_ATTRIBUTES = ['src', 'srcset', 'poster', 'background', 'data', 'xlink:href'];

/** Sanitized HTML of a specimen's field notes (or any Markdown text block of a report), loading nothing. */
export function renderFieldNotes(text: string): string {
  const template = document.createElement('template');
  template.innerHTML = renderMarkdown(text);
  for (const el of template.content.querySelectorAll('*')) {
    const src = el.getAttribute('src');
    if (el.tagName === 'IMG' && src !== null && !src.startsWith('data:')) {
      // An image the report cannot carry: its alt text (or its address) in its place.
      const note = document.createElement('span');
      note.className = 'muted';
      note.textContent = `[image: ${el.getAttribute('alt') || src}]`;
      el.replaceWith(note);
      continue;
    }
    for (const name of LOADING_ATTRIBUTES) {
      const v = el.getAttribute(name);
      if (v === null || (name === 'src' && v.startsWith('data:'))) continue;
      el.removeAttribute(name);
    }
    // <link> and <use> elements would also load; the sanitizer already drops most, these never belong here.
    if (el.tagName === 'LINK' || el.tagName === 'USE') el.remove();
  }
  return template.innerHTML;
}
