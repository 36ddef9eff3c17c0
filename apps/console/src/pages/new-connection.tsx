import { useMemo, useState } from 'react';
import type { ServiceView } from '@plugboard/contracts';
import { api } from '../api';
import type { Session } from '../main';
import { AUTH_TYPE_LABELS, ErrorMessage, Link, Loading, TextField, useLoad } from '../ui';

/** "New Connection" leads to "Pick Your Service": the catalog, searchable and grouped by category, and the custom services. */
export function NewConnectionPage(props: { tab: 'predefined' | 'custom'; session: Session }) {
  const [query, setQuery] = useState('');
  const { data, error } = useLoad(() => api.services(props.tab), [props.tab]);
  const shown = useMemo(() => {
    const words = query.toLowerCase().trim().split(/\s+/).filter(Boolean);
    return (data ?? []).filter((service) => {
      const text = `${service.name} ${service.linkName} ${service.category ?? ''} ${service.description ?? ''}`.toLowerCase();
      return words.every((word) => text.includes(word));
    });
  }, [data, query]);
  const groups = useMemo(() => {
    const byCategory = new Map<string, ServiceView[]>();
    for (const service of shown) {
      const category = props.tab === 'custom' ? 'Custom services of your organization' : (service.category ?? 'Other');
      byCategory.set(category, [...(byCategory.get(category) ?? []), service]);
    }
    return [...byCategory.entries()].sort(([a], [b]) => a.localeCompare(b));
  }, [shown, props.tab]);

  return (
    <>
      <div className="page-head">
        <h1 tabIndex={-1}>New Connection</h1>
        <p className="lead">Pick the service to connect to. Predefined services are configured already; a custom service is one you describe yourself.</p>
      </div>
      <nav className="subtabs" aria-label="Kind of service">
        <Link to="/new" aria-current={props.tab === 'predefined' ? 'page' : undefined}>
          Pick Your Service
        </Link>
        <Link to="/new/custom" aria-current={props.tab === 'custom' ? 'page' : undefined}>
          Custom Service
        </Link>
      </nav>
      <div className="toolbar">
        <div className="search">
          <TextField label={props.tab === 'custom' ? 'Search custom services' : 'Search services'} name="q" type="search" value={query} onChange={setQuery} placeholder="Name, category or link name" />
        </div>
        {props.tab === 'custom' && props.session.role !== 'read_only' && (
          <Link to="/new/service" className="button button-primary">
            + Create New Service
          </Link>
        )}
      </div>
      <ErrorMessage error={error} />
      {!data && !error && <Loading what="services" />}
      {data && shown.length === 0 && (
        <p className="empty card" role="status">
          {data.length === 0 && props.tab === 'custom' ? 'Nobody in your organization has created a custom service yet. Create Your Own with “+ Create New Service”.' : `No service matches “${query}”.`}
        </p>
      )}
      <p className="sr-only" role="status" aria-live="polite">
        {data ? `${shown.length} services` : ''}
      </p>
      {groups.map(([category, services], index) => (
        <section key={category} className="service-group" aria-labelledby={`group-${index}`}>
          <h2 id={`group-${index}`}>{category}</h2>
          <ul className="service-grid">
            {services.map((service) => (
              <li key={service.linkName}>
                <Link to={`/services/${service.linkName}`} className="service-card">
                  <span className="service-initial" aria-hidden="true">
                    {service.name.slice(0, 1).toUpperCase()}
                  </span>
                  <span className="service-text">
                    <span className="service-name">{service.name}</span>
                    <span className="muted">
                      {AUTH_TYPE_LABELS[service.authType]}
                      {service.type === 'custom' && service.owner ? ` · by ${service.owner}` : ''}
                    </span>
                  </span>
                </Link>
              </li>
            ))}
          </ul>
        </section>
      ))}
    </>
  );
}
