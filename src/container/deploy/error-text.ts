/** Short texts for deployment messages, from whatever an app or inversify threw. */

/** The first line of an error's message, without a final period, for embedding in a sentence. */
export function errorText(err: unknown): string {
  const text = err instanceof Error ? err.message : String(err);
  return text.split('\n')[0]?.replace(/\.$/, '') ?? '';
}

/** What to do about an inversify resolution error: the app forgot an `@inject`. Empty for other errors. */
export function diHint(err: unknown): string {
  const text = err instanceof Error ? err.message : '';
  if (/No bindings found|missing metadata|requires at least/i.test(text)) {
    return ' — mark every constructor parameter with @inject(TOKEN) (SIP_FACTORY, APP_CONFIG …, or a class listed in @SipApplication services / bound in configure)';
  }
  return '';
}
