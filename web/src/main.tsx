/**
 * Specimen Vault web app: catalog → specimen → run → tensor, runs explorer, compare, SQL, saved views. Hash routing keeps every view
 * a shareable link and needs nothing from the server but index.html and its assets.
 */
import { render } from 'preact';
import { getHealth } from './api/index.js';
import { useData } from './hooks.js';
import { CatalogPage, loadCatalog } from './pages/catalog/index.js';
import { ComparePage } from './pages/compare/index.js';
import { ExplorerPage } from './pages/explorer/index.js';
import { SpecimenPage } from './pages/specimen/index.js';
import { SqlPage } from './pages/sql/index.js';
import { TensorPage } from './pages/tensor/index.js';
import { ViewsPage } from './pages/views/index.js';
import { href, parseHash, type Route, useRoute } from './router.js';
import './styles.css';

// The catalog is the usual first page: ask for it before anything renders.
if (parseHash(location.hash).path.length === 0) loadCatalog().catch(() => {});

function Page({ route }: { route: Route }) {
  switch (route.path[0]) {
    case undefined:
      return <CatalogPage route={route} />;
    case 'specimen':
      return <SpecimenPage route={route} />;
    case 'compare':
      return <ComparePage route={route} />;
    case 'explorer':
      return <ExplorerPage route={route} />;
    case 'tensor':
      return <TensorPage route={route} />;
    case 'sql':
      return <SqlPage route={route} />;
    case 'views':
      return <ViewsPage route={route} />;
    default:
      return (
        <div class="page">
          <p>
            No such page. <a href={href([])}>Go to the catalog.</a>
          </p>
        </div>
      );
  }
}

function App() {
  const route = useRoute();
  const { data: health } = useData('health', getHealth);
  const section = route.path[0] ?? '';
  const nav = (target: string, label: string, active: boolean) => (
    <a href={target} class={active ? 'active' : ''}>
      {label}
    </a>
  );
  return (
    <>
      <header class="topbar">
        <a class="brand" href={href([])}>
          Specimen Vault
        </a>
        <nav>
          {nav(href([]), 'Catalog', section === '' || section === 'specimen' || section === 'tensor')}
          {nav(href(['explorer']), 'Runs', section === 'explorer')}
          {nav(href(['compare']), 'Compare', section === 'compare')}
          {nav(href(['sql']), 'SQL', section === 'sql')}
          {nav(href(['views']), 'Views', section === 'views')}
        </nav>
        <span class="vault-name muted">{health ? `${health.name} · v${health.version}` : ''}</span>
      </header>
      <main>
        <Page route={route} />
      </main>
    </>
  );
}

render(<App />, document.getElementById('app')!);
