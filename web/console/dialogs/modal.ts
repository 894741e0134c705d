import { h, uid, type Child } from '../../shared/dom.ts';

export interface Modal {
  dialog: HTMLDialogElement;
  body: HTMLElement;
  close(): void;
}

/**
 * A real modal `<dialog>`: the rest of the page is inert while it is open, Escape closes it, focus
 * starts inside it (on `initialFocus`, else its heading) and returns to the opener when it closes.
 */
export function openModal(options: { title: string; subtitle?: string; opener: HTMLElement; className?: string; onClose?: () => void }): Modal {
  const titleId = uid('dialog-title');
  const heading = h('h2', { id: titleId, tabindex: '-1' }, options.title);
  const body = h('div', { class: 'dialog-body' });
  const dialog = h(
    'dialog',
    { class: `modal ${options.className ?? ''}`, 'aria-labelledby': titleId },
    h('div', { class: 'dialog-head' }, heading, options.subtitle !== undefined && h('p', { class: 'muted' }, options.subtitle)),
    body,
  );
  dialog.addEventListener('close', () => {
    options.onClose?.();
    dialog.remove();
    if (options.opener.isConnected) options.opener.focus();
  });
  document.body.appendChild(dialog);
  dialog.showModal();
  heading.focus();
  return { dialog, body, close: () => dialog.close() };
}

const SVG = 'http://www.w3.org/2000/svg';
const PATHS: Record<string, string> = {
  approved: 'M5 12.5l4.5 4.5L19 7.5',
  denied: 'M6 6l12 12M18 6L6 18',
  expired: 'M12 7v5l3 3M12 3a9 9 0 1 0 0 18a9 9 0 0 0 0-18z',
  warning: 'M12 8v5M12 16.5v.5M10.3 3.9L2.4 18a2 2 0 0 0 1.7 3h15.8a2 2 0 0 0 1.7-3L13.7 3.9a2 2 0 0 0-3.4 0z',
  pending: 'M12 3a9 9 0 1 0 9 9',
  sent: 'M4 12l16-8-6 16-3-7z',
};

/** A status icon, decorative (the status is always said in text beside it). */
export function icon(name: keyof typeof PATHS | string): Child {
  const svg = document.createElementNS(SVG, 'svg');
  svg.setAttribute('viewBox', '0 0 24 24');
  svg.setAttribute('aria-hidden', 'true');
  svg.setAttribute('focusable', 'false');
  svg.setAttribute('class', `icon icon-${name}`);
  const path = document.createElementNS(SVG, 'path');
  path.setAttribute('d', PATHS[name] ?? PATHS['warning']!);
  svg.appendChild(path);
  return svg;
}
