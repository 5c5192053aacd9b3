// The viewer: a few views over agent-trace's JSON API, routed by URL so that every view is a deep
// link. Preact (3 kB) renders, preact-iso routes, @tanstack/virtual-core keeps long lists cheap,
// uPlot draws the charts; see docs/viewer.md for why these.
import { render } from 'preact';
import { useEffect, useState } from 'preact/hooks';
import { LocationProvider, Route, Router, useLocation } from 'preact-iso';
import { Moon, Sun } from 'lucide-preact';
import 'uplot/dist/uPlot.min.css';
import './styles.css';
import { TraceList } from './views/traces';
import { TraceView } from './views/trace';
import { DiffView } from './views/diff';
import { ReplayView } from './views/replay';
import { SessionsView } from './views/sessions';

type Theme = 'light' | 'dark';

/** Whether this server asks for a token (it says so in the page), so that logging out means something. */
const LOGIN_REQUIRED = document.querySelector('meta[name="agent-trace-login"]')?.getAttribute('content') === 'required';

function initialTheme(): Theme {
  const saved = localStorage.getItem('agent-trace-theme');
  if (saved === 'light' || saved === 'dark') return saved;
  return matchMedia('(prefers-color-scheme: dark)').matches ? 'dark' : 'light';
}

function TopBar({ theme, setTheme }: { theme: Theme; setTheme: (theme: Theme) => void }) {
  const { path } = useLocation();
  const at = (prefix: string) => (prefix === '/' ? path === '/' || path.startsWith('/traces') : path.startsWith(prefix));
  return (
    <header class="topbar">
      <a href="/" class="brand">
        <img src="/assets/favicon.svg" alt="" width={20} height={20} /> agent_trace
      </a>
      <nav>
        <a href="/" class={at('/') ? 'active' : ''}>
          Traces
        </a>
        <a href="/diff" class={at('/diff') ? 'active' : ''}>
          Diff
        </a>
        <a href="/sessions" class={at('/sessions') ? 'active' : ''}>
          Sessions &amp; cost
        </a>
      </nav>
      <div class="spacer" />
      <button
        type="button"
        class="icon-button"
        data-testid="theme-toggle"
        title={theme === 'dark' ? 'Light theme' : 'Dark theme'}
        aria-label={theme === 'dark' ? 'Light theme' : 'Dark theme'}
        onClick={() => setTheme(theme === 'dark' ? 'light' : 'dark')}
      >
        {theme === 'dark' ? <Sun size={16} /> : <Moon size={16} />}
      </button>
      {LOGIN_REQUIRED && (
        <form method="post" action="/logout" class="logout">
          <button type="submit" class="link-button">
            Log out
          </button>
        </form>
      )}
    </header>
  );
}

function NotFound() {
  return <div class="state">Nothing here. <a href="/">Back to the traces</a>.</div>;
}

function App() {
  const [theme, setTheme] = useState<Theme>(initialTheme);
  useEffect(() => {
    document.documentElement.dataset.theme = theme;
    localStorage.setItem('agent-trace-theme', theme);
  }, [theme]);
  return (
    <LocationProvider>
      <TopBar theme={theme} setTheme={setTheme} />
      <main>
        <Router>
          <Route path="/" component={TraceList} />
          <Route path="/traces/:id" component={TraceView} />
          <Route path="/replay/:id" component={ReplayView} />
          <Route path="/diff" component={DiffView} />
          <Route path="/sessions" component={() => <SessionsView theme={theme} />} />
          <Route default component={NotFound} />
        </Router>
      </main>
    </LocationProvider>
  );
}

const root = document.getElementById('app');
if (root) render(<App />, root);
