import { useEffect, useState } from 'react';

/** The console's paths, after /console: a few screens, so a small router of our own instead of a dependency. */
export type Route =
  | { page: 'connections'; view: 'own' | 'shared' | 'internal' }
  | { page: 'new-connection'; tab: 'predefined' | 'custom' }
  | { page: 'new-service' }
  | { page: 'service'; linkName: string }
  | { page: 'edit-service'; linkName: string }
  | { page: 'connection'; linkName: string }
  | { page: 'connect'; token: string }
  | { page: 'sign-in' }
  | { page: 'not-found' };

export function parse(pathname: string): Route {
  const path = pathname.replace(/^\/console/, '').replace(/\/+$/, '') || '/';
  const parts = path.split('/').filter(Boolean).map(decodeURIComponent);
  switch (parts[0]) {
    case undefined:
      return { page: 'connections', view: 'own' };
    case 'shared':
      return parts.length === 1 ? { page: 'connections', view: 'shared' } : { page: 'not-found' };
    case 'internal':
      return parts.length === 1 ? { page: 'connections', view: 'internal' } : { page: 'not-found' };
    case 'new':
      if (parts.length === 1) return { page: 'new-connection', tab: 'predefined' };
      if (parts[1] === 'custom' && parts.length === 2) return { page: 'new-connection', tab: 'custom' };
      if (parts[1] === 'service' && parts.length === 2) return { page: 'new-service' };
      return { page: 'not-found' };
    case 'services':
      if (parts.length === 2) return { page: 'service', linkName: parts[1] };
      if (parts.length === 3 && parts[2] === 'edit') return { page: 'edit-service', linkName: parts[1] };
      return { page: 'not-found' };
    case 'connections':
      return parts.length === 2 ? { page: 'connection', linkName: parts[1] } : { page: 'not-found' };
    case 'connect':
      return parts.length === 2 ? { page: 'connect', token: parts[1] } : { page: 'not-found' };
    case 'sign-in':
      return { page: 'sign-in' };
    default:
      return { page: 'not-found' };
  }
}

const listeners = new Set<() => void>();

/** Goes to a console path (`/connections/crm`), keeping history, and moves focus to the new page's heading. */
export function navigate(to: string, options: { replace?: boolean } = {}): void {
  const url = `/console${to === '/' ? '' : to}`;
  if (options.replace) history.replaceState(null, '', url);
  else history.pushState(null, '', url);
  listeners.forEach((listener) => listener());
  window.scrollTo(0, 0);
}

export function useLocation(): { route: Route; search: URLSearchParams } {
  const read = () => ({ route: parse(location.pathname), search: new URLSearchParams(location.search) });
  const [state, setState] = useState(read);
  useEffect(() => {
    const update = () => setState(read());
    listeners.add(update);
    window.addEventListener('popstate', update);
    return () => {
      listeners.delete(update);
      window.removeEventListener('popstate', update);
    };
  }, []);
  return state;
}
