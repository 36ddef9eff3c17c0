import { useState } from 'react';
import type { ServiceClientView, ServiceView } from '@plugboard/contracts';
import { api, ApiError } from '../api';
import type { Session } from '../main';
import { Confirm, ErrorMessage, Notice, TextField } from '../ui';

const SOURCE_WORDS: Record<ServiceClientView['source'], { badge: string; status: string }> = {
  organization: { badge: 'Your organization’s', status: 'connected' },
  deployment: { badge: 'Deployment default', status: 'connected' },
  none: { badge: 'Not configured', status: 'pending' },
};

/**
 * A predefined OAuth service's OAuth client (`PUT/DELETE /v1/services/{linkName}/client`): which one the org's
 * connections use (its own, the deployment's default, or none yet), with the client ID and the secret masked as the API
 * answers it; admins set and remove the org's own. The secret is typed, sent, and never shown or kept in the page.
 */
export function ServiceClientSection(props: { service: ServiceView; session: Session; onChange: (service: ServiceView) => void }) {
  const { service, session } = props;
  const client = service.client;
  if (service.type !== 'predefined' || !client) return null;
  const admin = session.role === 'admin';
  // Seed 004's words: OAuth 1 has a consumer key and secret, OAuth 2 a client ID and secret.
  const words = service.authType === 'oauth1' ? { id: 'Consumer Key', secret: 'Consumer Secret' } : { id: 'Client ID', secret: 'Client Secret' };
  const source = SOURCE_WORDS[client.source];
  return (
    <section className="card" aria-labelledby="oauth-client" data-client-source={client.source}>
      <h2 id="oauth-client">OAuth Client</h2>
      <p className="hint">The OAuth app your organization’s connections to {service.name} are authorized with, registered in {service.name}’s developer console.</p>
      <dl className="details">
        <dt>In use</dt>
        <dd data-field="client-source">
          <span className={`badge badge-${source.status}`}>{source.badge}</span>
        </dd>
        {client.source === 'organization' && (
          <>
            <dt>{words.id}</dt>
            <dd data-field="client-id">
              <code className="break">{client.clientId}</code>
            </dd>
            <dt>{words.secret}</dt>
            <dd data-field="client-secret">
              <span aria-hidden="true">{client.clientSecret}</span>
              <span className="sr-only">Set, hidden</span> <span className="muted">(stored encrypted, never shown)</span>
            </dd>
            {client.updatedAt && (
              <>
                <dt>Set on</dt>
                <dd>
                  <time dateTime={client.updatedAt}>{new Date(client.updatedAt).toLocaleString()}</time>
                </dd>
              </>
            )}
          </>
        )}
      </dl>
      <p data-field="client-explanation">
        {client.source === 'organization'
          ? `Your organization uses its own OAuth app for ${service.name}.`
          : client.source === 'deployment'
            ? `Your organization uses the OAuth app this Plugboard deployment registered for ${service.name}; its ${words.id} and ${words.secret} are not shown.`
            : `No OAuth app is configured for ${service.name}, so its connections cannot be authorized yet.${admin ? ` Set your organization’s own ${words.id} and ${words.secret} below.` : ' Ask an admin of your organization to set one.'}`}
      </p>
      {admin ? <ClientForm service={service} client={client} words={words} onChange={props.onChange} /> : <p className="muted">Only an admin of your organization can change it.</p>}
    </section>
  );
}

function ClientForm(props: { service: ServiceView; client: ServiceClientView; words: { id: string; secret: string }; onChange: (service: ServiceView) => void }) {
  const { service, client, words } = props;
  const [clientId, setClientId] = useState(client.clientId ?? '');
  // Never pre-filled: the page has no secret to fill it with, and keeps none after a save.
  const [clientSecret, setClientSecret] = useState('');
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [done, setDone] = useState<string>();
  const [removing, setRemoving] = useState(false);
  const [removeError, setRemoveError] = useState<unknown>();

  const apiError = error instanceof ApiError ? error : undefined;
  // Over the bus a field is named inside its request (`client.clientSecret`); over HTTP it may be named alone.
  const fieldError = (name: string) => apiError?.about(`client.${name}`) ?? apiError?.about(name);

  return (
    <>
      <form
        noValidate
        aria-labelledby="set-client"
        onSubmit={async (event) => {
          event.preventDefault();
          setBusy(true);
          setError(undefined);
          setDone(undefined);
          try {
            const updated = await api.setServiceClient(service.linkName, { clientId: clientId.trim(), clientSecret });
            setClientSecret('');
            setClientId(updated.client?.clientId ?? '');
            setDone(`Saved: ${service.name} connections are authorized with your organization’s OAuth app.`);
            props.onChange(updated);
          } catch (reason) {
            setError(reason);
          } finally {
            setBusy(false);
          }
        }}
      >
        <h3 id="set-client">{client.source === 'organization' ? 'Change your organization’s OAuth app' : 'Use your organization’s own OAuth app'}</h3>
        {done && <Notice kind="success">{done}</Notice>}
        <ErrorMessage error={error} />
        <TextField
          label={words.id}
          name="clientId"
          value={clientId}
          onChange={setClientId}
          hint={`Issued by ${service.name} when you register an OAuth app there.`}
          error={fieldError('clientId')}
          maxLength={512}
          required
        />
        <TextField
          label={words.secret}
          name="clientSecret"
          type="password"
          autoComplete="new-password"
          value={clientSecret}
          onChange={setClientSecret}
          hint="Stored encrypted and never shown again. Enter it again whenever you save."
          error={fieldError('clientSecret')}
          maxLength={4096}
          required
        />
        <p className="hint">Saving a new or changed OAuth app revokes your organization’s connections to {service.name}: their tokens belong to the previous app.</p>
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy}>
            {busy ? 'Saving…' : 'Save Client'}
          </button>
          {client.source === 'organization' && (
            <button type="button" className="button button-danger" onClick={() => (setRemoving(true), setRemoveError(undefined))}>
              Remove Client
            </button>
          )}
        </div>
      </form>
      <Confirm
        open={removing}
        title={`Remove your OAuth app for ${service.name}?`}
        confirm="Yes, Remove"
        danger
        onCancel={() => (setRemoving(false), setRemoveError(undefined))}
        onConfirm={async () => {
          try {
            const updated = await api.removeServiceClient(service.linkName);
            setRemoving(false);
            setClientId('');
            setClientSecret('');
            setError(undefined);
            setDone(updated.client?.source === 'deployment' ? `Removed: ${service.name} connections use the deployment’s default OAuth app again.` : `Removed: ${service.name} has no OAuth app now, so its connections cannot be authorized.`);
            props.onChange(updated);
          } catch (reason) {
            setRemoveError(reason);
          }
        }}
      >
        <p>
          The {words.secret.toLowerCase()} is erased, and your organization’s connections to {service.name} are revoked. New authorizations use the deployment’s default OAuth app, if it has one.
        </p>
        <ErrorMessage error={removeError} />
      </Confirm>
    </>
  );
}
