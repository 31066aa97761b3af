/**
 * The signed-in token, kept in session storage only: it dies with the tab, is never written to
 * disk by the console, and signing out removes it.
 */
const KEY = 'stowage.console.token';

export function savedToken(): string | undefined {
  return sessionStorage.getItem(KEY) ?? undefined;
}

export function saveToken(token: string): void {
  sessionStorage.setItem(KEY, token);
}

export function forgetToken(): void {
  sessionStorage.removeItem(KEY);
}
