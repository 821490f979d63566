/** Which view is shown, mirrored in the address's hash (#/dataset) so a reload keeps it. */

export const VIEWS = [
  { id: 'projects', label: 'Projects' },
  { id: 'dataset', label: 'Dataset' },
  { id: 'train', label: 'Train' },
  { id: 'gallery', label: 'Gallery' },
  { id: 'models', label: 'Models' },
  { id: 'merge', label: 'Merge' },
] as const;

export type ViewId = (typeof VIEWS)[number]['id'];

function parse(hash: string): ViewId {
  const id = hash.replace(/^#\/?/, '');
  return VIEWS.find((v) => v.id === id)?.id ?? 'projects';
}

export class Router {
  current = $state<ViewId>('projects');

  constructor() {
    this.current = parse(window.location.hash);
    window.addEventListener('hashchange', () => {
      this.current = parse(window.location.hash);
    });
  }

  go(id: ViewId): void {
    this.current = id;
    const hash = `#/${id}`;
    if (window.location.hash !== hash) window.history.replaceState(null, '', hash);
  }
}
