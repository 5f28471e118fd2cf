/** Markdown (field notes) rendered with marked and sanitized with DOMPurify before it reaches the page. */
import DOMPurify from 'dompurify';
import { marked } from 'marked';
import { useMemo } from 'preact/hooks';

export function renderMarkdown(text: string): string {
  const html = marked.parse(text, { async: false, gfm: true }) as string;
  return DOMPurify.sanitize(html, { USE_PROFILES: { html: true }, FORBID_TAGS: ['style', 'form', 'input'] });
}

export function Markdown({ text }: { text: string }) {
  const html = useMemo(() => renderMarkdown(text), [text]);
  // The HTML was sanitized by DOMPurify above.
  return <div class="markdown" dangerouslySetInnerHTML={{ __html: html }} />;
}
