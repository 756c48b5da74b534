/** A page the core wants shown in a browser (connect links, OAuth callbacks); src/http renders it as HTML. */
export interface Page {
  status: number;
  title: string;
  /** Plain text paragraphs; the renderer escapes them. */
  paragraphs: readonly string[];
}
