import type { Store } from '../../src/core/ports.js';

/** `store`, noting each call made to it in `calls`: the method, and the key or list when it names one. */
export function notingCalls(store: Store, calls: string[]): Store {
  return new Proxy(store, {
    get(target, property) {
      const member = Reflect.get(target, property);
      if (typeof member !== 'function') return member;
      return (...args: unknown[]) => {
        calls.push(typeof args[0] === 'string' ? `${String(property)} ${args[0]}` : String(property));
        return member.apply(target, args);
      };
    },
  });
}
