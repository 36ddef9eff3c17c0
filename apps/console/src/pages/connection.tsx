import { useState } from 'react';
import type { ConnectionSnippets, ConnectionView, ServiceView } from '@plugboard/contracts';
import { api, ApiError, type TimelineEvent } from '../api';
import type { Session } from '../main';
import { navigate } from '../router';
import { AUTH_TYPE_LABELS, Checkbox, Confirm, CopyButton, ErrorMessage, Link, Loading, Notice, StatusBadge, TextField, useLoad } from '../ui';
import { Authorize } from './service';

const REASONS: Record<string, string> = {
  user: 'revoked by a user',
  service_edited: 'its service was edited',
  refresh_failed: 'the provider refused to refresh its token',
  verification_failed: 'the service refused its credentials',
};

/** A connection's page: status, scopes, snippet, timeline; Edit, Revoke, Enable and Delete as the rules allow. */
export function ConnectionPage(props: { linkName: string; session: Session; search: URLSearchParams }) {
  const { data: connection, error, set } = useLoad(() => api.connection(props.linkName), [props.linkName]);
  const serviceName = connection?.service;
  const { data: service } = useLoad(() => (serviceName ? api.service(serviceName).catch(() => undefined) : Promise.resolve(undefined)), [serviceName]);
  const [notice, setNotice] = useState<string | undefined>(() => outcomeOf(props.search));
  const [mode, setMode] = useState<'view' | 'edit' | 'enable'>('view');
  const [round, setRound] = useState(0);

  if (error) {
    return (
      <>
        <h1 tabIndex={-1}>Connection</h1>
        <ErrorMessage error={error} />
        <p>
          <Link to="/">Back to My Connections</Link>
        </p>
      </>
    );
  }
  if (!connection) return <Loading what="the connection" />;

  const me = props.session.userId;
  const writer = props.session.role !== 'read_only';
  const own = connection.owner === me;
  const mayAuthorize = writer && (own || connection.useLoginUserCredentials);
  const mayEdit = writer && own && !connection.internal;
  const changed = (next: ConnectionView, message: string) => {
    set(next);
    setNotice(message);
    setMode('view');
    setRound((n) => n + 1);
  };

  return (
    <>
      <p className="breadcrumb">
        <Link to={connection.internal ? '/internal' : own ? '/' : '/shared'}>{connection.internal ? 'Internal Connections' : own ? 'My Connections' : 'Shared Connections'}</Link> ›
      </p>
      <div className="page-head page-head-row">
        <div>
          <h1 tabIndex={-1}>{connection.name}</h1>
          <p className="lead">
            <code className="link-name">{connection.linkName}</code> · {service?.name ?? connection.service} · {AUTH_TYPE_LABELS[connection.authType]}
          </p>
        </div>
        <StatusBadge status={connection.status} />
      </div>
      {notice && <Notice kind={notice.startsWith('Connected') || notice.endsWith('saved.') ? 'success' : 'info'}>{notice}</Notice>}
      {connection.reauthorizationRequired && connection.status === 'connected' && <Notice kind="warning">The scopes changed since the last authorization: use Enable to authorize again with the new scopes.</Notice>}
      {connection.health === 'degraded' && connection.lastError && (
        <Notice kind="warning">
          The last {connection.consecutiveFailures} calls through this connection were refused by {connection.lastError.host ?? 'the API'} ({connection.lastError.status}). The
          credential may have lost its access: use Enable to authorize it again.
        </Notice>
      )}

      {mode === 'edit' && <EditConnection connection={connection} service={service} onCancel={() => setMode('view')} onSaved={(next) => changed(next, 'Your changes were saved.')} />}
      {mode === 'enable' && service && (
        <Authorize connection={connection} service={service} onCancel={() => setMode('view')} onDone={(next) => changed(next, 'Connected. Products can call through this connection now.')} />
      )}
      {mode === 'view' && (
        <Actions
          connection={connection}
          mayAuthorize={mayAuthorize}
          mayEdit={mayEdit}
          mayRevoke={writer && (own || connection.useLoginUserCredentials || connection.internal)}
          onEdit={() => setMode('edit')}
          onEnable={() => setMode('enable')}
          onRevoked={(next) => changed(next, connection.useLoginUserCredentials && !own ? 'Your authorization was revoked.' : 'The connection was revoked. Enable it to connect again.')}
        />
      )}

      <div className="two-columns">
        <section className="card" aria-labelledby="details-title">
          <h2 id="details-title">Details</h2>
          <dl className="details">
            <dt>Status</dt>
            <dd data-field="status">
              <StatusBadge status={connection.status} />
              {connection.status === 'revoked' && connection.revokedReason && <span className="muted"> ({REASONS[connection.revokedReason] ?? connection.revokedReason})</span>}
            </dd>
            <dt>Service</dt>
            <dd>
              <Link to={`/services/${connection.service}`}>{service?.name ?? connection.service}</Link>
            </dd>
            <dt>Scopes</dt>
            <dd data-field="scopes">{connection.scopes.length ? connection.scopes.map((scope) => <code key={scope} className="chip">{scope}</code>) : <span className="muted">None</span>}</dd>
            {Object.keys(connection.parameters).length > 0 && (
              <>
                <dt>Parameters</dt>
                <dd>
                  {Object.entries(connection.parameters).map(([name, value]) => (
                    <span key={name} className="chip">
                      {name}: {value}
                    </span>
                  ))}
                </dd>
              </>
            )}
            <dt>Owner</dt>
            <dd>{connection.owner === me ? `${connection.owner} (you)` : connection.owner}</dd>
            <dt>Use credentials of login user</dt>
            <dd>{connection.useLoginUserCredentials ? 'Yes: each user authorizes their own credentials' : 'No: everyone uses the owner’s'}</dd>
            {connection.internal && (
              <>
                <dt>Internal</dt>
                <dd>Made by a product: it can be revoked, not edited or deleted.</dd>
              </>
            )}
            <dt>Last authorized</dt>
            <dd>{connection.lastAuthorizedAt ? when(connection.lastAuthorizedAt) : 'Never'}</dd>
            {connection.lastRefreshedAt && (
              <>
                <dt>Token refreshed</dt>
                <dd>{when(connection.lastRefreshedAt)}</dd>
              </>
            )}
            <dt>Health</dt>
            <dd data-field="health">
              {connection.health === 'degraded' ? 'Degraded' : 'Healthy'}
              {connection.lastUsedAt && <span className="muted"> · last used {when(connection.lastUsedAt)}</span>}
            </dd>
            {connection.lastError && (
              <>
                <dt>Last refusal</dt>
                <dd data-field="last-error">
                  {connection.lastError.status} from {connection.lastError.host ?? 'the API'}, {when(connection.lastError.at)}
                </dd>
              </>
            )}
          </dl>
        </section>
        <Timeline linkName={connection.linkName} round={round} />
      </div>
      <Snippet linkName={connection.linkName} />
    </>
  );
}

function outcomeOf(search: URLSearchParams): string | undefined {
  switch (search.get('plugboard_status')) {
    case 'connected':
      return 'Connected. Products can call through this connection now.';
    case 'denied':
      return 'The authorization was declined at the service: nothing changed. Try again when you are ready.';
    case 'failed':
      return 'The authorization did not complete. Try again; if it keeps failing, check the service’s OAuth settings.';
    default:
      return undefined;
  }
}

const when = (iso: string) => new Date(iso).toLocaleString(undefined, { dateStyle: 'medium', timeStyle: 'short' });

function Actions(props: { connection: ConnectionView; mayAuthorize: boolean; mayEdit: boolean; mayRevoke: boolean; onEdit: () => void; onEnable: () => void; onRevoked: (next: ConnectionView) => void }) {
  const { connection } = props;
  const [confirm, setConfirm] = useState<'revoke' | 'delete' | null>(null);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const run = async (action: () => Promise<void>) => {
    setBusy(true);
    setError(undefined);
    try {
      await action();
      setConfirm(null);
    } catch (reason) {
      setError(reason);
    } finally {
      setBusy(false);
    }
  };
  const buttons = [
    props.mayEdit && (
      <button key="edit" type="button" className="button" onClick={props.onEdit}>
        Edit
      </button>
    ),
    props.mayAuthorize && connection.status === 'pending' && (
      <button key="connect" type="button" className="button button-primary" onClick={props.onEnable}>
        Connect
      </button>
    ),
    props.mayAuthorize && (connection.status === 'revoked' || (connection.status === 'connected' && connection.reauthorizationRequired)) && (
      <button key="enable" type="button" className="button button-primary" onClick={props.onEnable}>
        Enable
      </button>
    ),
    props.mayRevoke && connection.status === 'connected' && (
      <button key="revoke" type="button" className="button" onClick={() => setConfirm('revoke')}>
        Revoke
      </button>
    ),
    props.mayEdit && (
      <button key="delete" type="button" className="button button-danger" onClick={() => setConfirm('delete')}>
        Delete
      </button>
    ),
  ].filter(Boolean);
  if (buttons.length === 0) return null;
  return (
    <div className="actions actions-bar" role="group" aria-label="Connection actions">
      {buttons}
      <Confirm
        open={confirm === 'revoke'}
        title={`Revoke ${connection.name}?`}
        confirm="Revoke"
        busy={busy}
        onCancel={() => (setConfirm(null), setError(undefined))}
        onConfirm={() => run(async () => props.onRevoked(await api.revoke(connection.linkName)))}
      >
        <p>{connection.useLoginUserCredentials ? 'Your authorization of this connection stops at once.' : 'Calls through this connection stop at once, for every product.'} Enable it later to connect again.</p>
        <ErrorMessage error={error} />
      </Confirm>
      <Confirm
        open={confirm === 'delete'}
        title={`Delete ${connection.name}?`}
        confirm="Yes, Delete"
        danger
        busy={busy}
        onCancel={() => (setConfirm(null), setError(undefined))}
        onConfirm={() =>
          run(async () => {
            await api.deleteConnection(connection.linkName);
            navigate('/');
          })
        }
      >
        <p>
          The connection and every credential it holds are deleted for good. Products calling <code>{connection.linkName}</code> get an error from then on.
        </p>
        <ErrorMessage error={error} />
      </Confirm>
    </div>
  );
}

/** Seed 001: "you can make changes to the connection's name and its scope only". */
function EditConnection(props: { connection: ConnectionView; service: ServiceView | undefined; onCancel: () => void; onSaved: (next: ConnectionView) => void }) {
  const { connection } = props;
  const [name, setName] = useState(connection.name);
  const [scopes, setScopes] = useState(connection.scopes);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const offered = [...new Map([...(props.service?.oauth2?.scopes ?? []), ...connection.scopes.map((scope) => ({ name: scope, displayName: scope }))].map((scope) => [scope.name, scope])).values()];
  const apiError = error instanceof ApiError ? error : undefined;
  return (
    <section className="card" aria-labelledby="edit-title">
      <h2 id="edit-title">Edit connection</h2>
      <form
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(undefined);
          try {
            const changes: { name?: string; scopes?: string[] } = {};
            if (name.trim() !== connection.name) changes.name = name.trim();
            if (scopes.join(' ') !== connection.scopes.join(' ')) changes.scopes = scopes;
            props.onSaved(Object.keys(changes).length ? await api.editConnection(connection.linkName, changes) : connection);
          } catch (reason) {
            setError(reason);
            setBusy(false);
          }
        }}
      >
        {!(apiError?.about('name') || apiError?.about('scopes')) && <ErrorMessage error={error} />}
        <TextField label="Connection Name" name="name" value={name} onChange={setName} maxLength={50} error={apiError?.about('name')} required autoFocus />
        {offered.length > 0 && (
          <fieldset className="field">
            <legend>Scopes</legend>
            {connection.authType === 'oauth2' && <p className="hint">A change of scopes takes effect when you authorize again (Enable).</p>}
            {offered.map((scope) => (
              <Checkbox
                key={scope.name}
                name="scopes"
                label={scope.displayName === scope.name ? scope.name : `${scope.displayName} (${scope.name})`}
                checked={scopes.includes(scope.name)}
                onChange={(checked) => setScopes((old) => (checked ? [...old, scope.name] : old.filter((item) => item !== scope.name)))}
              />
            ))}
            {apiError?.about('scopes') && (
              <p className="field-error" role="alert">
                {apiError.about('scopes')}
              </p>
            )}
          </fieldset>
        )}
        <div className="actions">
          <button type="button" className="button" onClick={props.onCancel}>
            Cancel
          </button>
          <button type="submit" className="button button-primary" disabled={busy}>
            Update
          </button>
        </div>
      </form>
    </section>
  );
}

const SNIPPETS: { key: keyof ConnectionSnippets; label: string }[] = [
  { key: 'curl', label: 'curl' },
  { key: 'typescript', label: 'TypeScript' },
  { key: 'proxyCurl', label: 'Proxy (curl)' },
  { key: 'nats', label: 'NATS' },
];

/** Seed 000: "you will find a code snippet that shows how to use that connection", to copy and paste. */
function Snippet(props: { linkName: string }) {
  const { data, error } = useLoad(() => api.snippet(props.linkName), [props.linkName]);
  const [tab, setTab] = useState<keyof ConnectionSnippets>('curl');
  const available = SNIPPETS.filter((snippet) => data?.[snippet.key]);
  const text = data?.[tab] ?? '';
  return (
    <section className="card snippet" aria-labelledby="snippet-title">
      <div className="card-head">
        <h2 id="snippet-title">Code snippet</h2>
        {text && <CopyButton text={text} label="Copy snippet" />}
      </div>
      <ErrorMessage error={error} />
      {data && (
        <>
          <div role="tablist" aria-label="Snippet language" className="subtabs">
            {available.map((snippet) => (
              <button
                key={snippet.key}
                type="button"
                role="tab"
                id={`snippet-tab-${snippet.key}`}
                aria-selected={tab === snippet.key}
                aria-controls="snippet-panel"
                tabIndex={tab === snippet.key ? 0 : -1}
                onClick={() => setTab(snippet.key)}
                onKeyDown={(event) => {
                  if (event.key !== 'ArrowRight' && event.key !== 'ArrowLeft') return;
                  const index = available.findIndex((item) => item.key === tab);
                  const next = available[(index + (event.key === 'ArrowRight' ? 1 : available.length - 1)) % available.length];
                  setTab(next.key);
                  document.getElementById(`snippet-tab-${next.key}`)?.focus();
                }}
              >
                {snippet.label}
              </button>
            ))}
          </div>
          <pre id="snippet-panel" role="tabpanel" aria-labelledby={`snippet-tab-${tab}`} tabIndex={0}>
            <code>{text}</code>
          </pre>
        </>
      )}
    </section>
  );
}

const EVENT_WORDS: Record<string, (event: TimelineEvent) => string> = {
  ConnectionCreated: () => 'Created',
  ConnectionAuthorized: (event) => (event.data.userId ? `Authorized by ${event.data.userId}` : 'Connected'),
  ConnectionEdited: () => 'Edited',
  ConnectionRevoked: (event) => `Revoked${event.data.userId ? ` for ${event.data.userId}` : ''}: ${REASONS[String(event.data.reason)] ?? String(event.data.reason)}`,
  ConnectionDeleted: () => 'Deleted',
  UserCredentialAuthorized: (event) => `Authorized by ${String(event.data.userId)}`,
  TokenRefreshed: () => 'Token refreshed',
  TokenRefreshFailed: (event) => `Token refresh failed${event.data.error ? ` (${String(event.data.error)})` : ''}`,
};

function Timeline(props: { linkName: string; round: number }) {
  const { data, error } = useLoad(() => api.timeline(props.linkName), [props.linkName, props.round]);
  const events = data?.timeline?.events ?? [];
  return (
    <section className="card" aria-labelledby="timeline-title">
      <h2 id="timeline-title">Timeline</h2>
      {error ? <p className="muted">The timeline could not be read.</p> : null}
      {!data && !error && <Loading what="the timeline" />}
      {data && (
        <ol className="timeline">
          {[...events].reverse().map((event, index) => (
            <li key={index} data-event-type={event.type}>
              <span className="timeline-what">{(EVENT_WORDS[event.type] ?? (() => event.type))(event)}</span>
              <time dateTime={event.recordedAt} className="muted">
                {when(event.recordedAt)}
              </time>
            </li>
          ))}
        </ol>
      )}
    </section>
  );
}
