import type { ConnectionView } from '@plugboard/contracts';
import { api, type ConnectionsView } from '../api';
import type { Session } from '../main';
import { AUTH_TYPE_LABELS, ErrorMessage, Link, Loading, StatusBadge, useLoad } from '../ui';

const TITLES: Record<ConnectionsView, { title: string; intro: string; empty: string }> = {
  own: {
    title: 'My Connections',
    intro: 'Connections you created. Products call a service through a connection by its link name.',
    empty: 'You have no connections yet.',
  },
  shared: {
    title: 'Shared Connections',
    intro: 'Connections someone else created with “Use credentials of login user”, which you authorized with your own credentials. You can revoke them, not edit or delete them.',
    empty: 'You have not authorized anyone else’s connection.',
  },
  internal: {
    title: 'Internal Connections',
    intro: 'Connections the suite’s products made for their own use. They can be revoked, never edited or deleted.',
    empty: 'No product has made an internal connection.',
  },
};

export function ConnectionsPage(props: { view: ConnectionsView; session: Session }) {
  const { data, error } = useLoad(() => api.connections(props.view), [props.view]);
  const text = TITLES[props.view];
  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>{text.title}</h1>
        <p className="lead">{text.intro}</p>
      </div>
      <ErrorMessage error={error} />
      {!data && !error && <Loading what="connections" />}
      {data && data.length === 0 && (
        <div className="empty card">
          <p>{text.empty}</p>
          {props.view === 'own' && props.session.role !== 'read_only' && (
            <Link to="/new" className="button button-primary">
              + New Connection
            </Link>
          )}
        </div>
      )}
      {data && data.length > 0 && <ConnectionList connections={data} />}
    </>
  );
}

function ConnectionList(props: { connections: ConnectionView[] }) {
  return (
    <ul className="connection-list" aria-label="Connections">
      {props.connections.map((connection) => (
        <li key={connection.linkName} className="connection-row" data-connection={connection.linkName}>
          <div className="connection-main">
            <Link to={`/connections/${connection.linkName}`} className="connection-name">
              {connection.name}
            </Link>
            <code className="link-name">{connection.linkName}</code>
          </div>
          <div className="connection-meta">
            <span>{connection.service}</span>
            <span className="muted">{AUTH_TYPE_LABELS[connection.authType]}</span>
            {connection.useLoginUserCredentials && <span className="tag">Login user</span>}
            <StatusBadge status={connection.status} />
          </div>
        </li>
      ))}
    </ul>
  );
}
