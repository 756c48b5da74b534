/** A page the core wants shown in a browser (connect links, OAuth callbacks, policies); src/http renders it as HTML. */
export interface Page {
  status: number;
  title: string;
  /** Plain text paragraphs; the renderer escapes them. */
  paragraphs: readonly string[];
  /** Further sections under their headings (the privacy policy), plain text like the paragraphs. */
  sections?: readonly PageSection[] | undefined;
}

export interface PageSection {
  heading: string;
  paragraphs: readonly string[];
}

/** A link at the foot of every page (the privacy policy and terms). */
export interface PageLink {
  label: string;
  href: string;
}
