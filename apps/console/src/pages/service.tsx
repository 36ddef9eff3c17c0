import { useState } from 'react';
import type { ConnectionView, ServiceView } from '@plugboard/contracts';
import { api, ApiError } from '../api';
import { CredentialsForm, returnHere } from '../credentials';
import { proposeLinkName, linkNameProblem } from '../link-name';
import type { Session } from '../main';
import { navigate } from '../router';
import { ServiceClientSection } from './service-client';
import { AUTH_TYPE_LABELS, Checkbox, Confirm, CopyButton, ErrorMessage, Link, Loading, TextField, useLoad } from '../ui';

const PARAM_TYPES: Record<string, string> = { query: 'Query string', form: 'Form Data', header: 'Header' };

/**
 * A service's page: what it is, its callback URLs (OAuth), Edit and Delete for its owner, "Connection Details", and for a
 * predefined OAuth service the OAuth client it uses (set and removed by admins).
 */
export function ServicePage(props: { linkName: string; session: Session }) {
  const { data: service, error, set } = useLoad(() => api.service(props.linkName), [props.linkName]);
  if (error) {
    return (
      <>
        <h1 tabIndex={-1}>Service</h1>
        <ErrorMessage error={error} />
      </>
    );
  }
  if (!service) return <Loading what="the service" />;
  const owner = service.type === 'custom' && service.owner === props.session.userId;
  return (
    <>
      <p className="breadcrumb">
        <Link to={service.type === 'custom' ? '/new/custom' : '/new'}>{service.type === 'custom' ? 'Custom Service' : 'Pick Your Service'}</Link> ›
      </p>
      <div className="page-head">
        <h1 tabIndex={-1}>{service.name}</h1>
        <p className="lead">
          {service.description ?? (service.type === 'custom' ? `A custom service${service.owner ? ` configured by ${service.owner}` : ''}.` : 'A predefined service.')}
        </p>
      </div>
      <div className="two-columns">
        <section className="card" aria-labelledby="service-details">
          <h2 id="service-details">Service details</h2>
          <ServiceDetails service={service} />
          {owner && <OwnerActions service={service} />}
        </section>
        {props.session.role !== 'read_only' && <NewConnectionForm service={service} />}
      </div>
      <ServiceClientSection service={service} session={props.session} onChange={set} />
    </>
  );
}

function ServiceDetails(props: { service: ServiceView }) {
  const { service } = props;
  return (
    <>
      <dl className="details">
        <dt>Service Link Name</dt>
        <dd>
          <code>{service.linkName}</code>
        </dd>
        <dt>Authentication Type</dt>
        <dd>{AUTH_TYPE_LABELS[service.authType]}</dd>
        {service.baseUrl && (
          <>
            <dt>API base URL</dt>
            <dd className="break">{service.baseUrl}</dd>
          </>
        )}
        {service.apiKey && (
          <>
            <dt>Parameters</dt>
            <dd>
              <ul className="plain">
                {service.apiKey.params.map((param) => (
                  <li key={param.name}>
                    {param.displayName} (<code>{param.name}</code>, {PARAM_TYPES[param.paramType]})
                  </li>
                ))}
              </ul>
            </dd>
          </>
        )}
        {service.oauth2 && (
          <>
            <dt>Grant Type</dt>
            <dd>{service.oauth2.grantType === 'client_credentials' ? 'Client credentials' : 'Authorization code'}</dd>
            {service.oauth2.scopes && service.oauth2.scopes.length > 0 && (
              <>
                <dt>Scopes</dt>
                <dd>
                  <ul className="plain">
                    {service.oauth2.scopes.map((scope) => (
                      <li key={scope.name}>
                        {scope.displayName} (<code>{scope.name}</code>)
                      </li>
                    ))}
                  </ul>
                </dd>
              </>
            )}
          </>
        )}
        {service.docsUrl && (
          <>
            <dt>Documentation</dt>
            <dd>
              <a href={service.docsUrl} rel="noreferrer noopener" target="_blank">
                {service.docsUrl}
              </a>
            </dd>
          </>
        )}
        {service.type === 'custom' && (
          <>
            <dt>Connections</dt>
            <dd>{service.connectionCount}</dd>
          </>
        )}
      </dl>
      <CallbackUrls service={service} />
    </>
  );
}

/** One redirect URI per configured region (`region` null: the deployment's own public URL). */
type CallbackUrl = { region: string; url: string };

function callbackUrlsOf(service: unknown): CallbackUrl[] {
  const raw = (service as { callbackUrls?: unknown } | undefined)?.callbackUrls;
  if (!Array.isArray(raw)) return [];
  return raw.filter((entry): entry is { region: string | null; url: string } => typeof entry?.url === 'string').map((entry) => ({ region: entry.region ?? '', url: entry.url }));
}

/** Seed 004: "when registering a client in the service's developer console, the callback URL needs to be …", per region. */
export function CallbackUrls(props: { service: unknown; intro?: string }) {
  const urls = callbackUrlsOf(props.service);
  if (urls.length === 0) return null;
  return (
    <div className="callbacks" aria-labelledby="callback-urls">
      <h3 id="callback-urls">Callback URLs</h3>
      <p className="hint">{props.intro ?? 'Register the callback URL of your region as the redirect URI of the OAuth client, in the service’s developer console.'}</p>
      <ul className="plain callback-list">
        {urls.map((entry) => (
          <li key={`${entry.region}-${entry.url}`} data-region={entry.region}>
            <span className="region">{entry.region.toUpperCase() || 'Default'}</span>
            <code className="break">{entry.url}</code>
            <CopyButton text={entry.url} label={`Copy ${entry.region.toUpperCase()} callback URL`} />
          </li>
        ))}
      </ul>
    </div>
  );
}

function OwnerActions(props: { service: ServiceView }) {
  const [confirming, setConfirming] = useState(false);
  const [error, setError] = useState<unknown>();
  return (
    <div className="actions">
      <Link to={`/services/${props.service.linkName}/edit`} className="button">
        Edit
      </Link>
      <button type="button" className="button button-danger" onClick={() => setConfirming(true)}>
        Delete Service
      </button>
      <Confirm
        open={confirming}
        title={`Delete ${props.service.name}?`}
        confirm="Yes, Delete"
        danger
        onCancel={() => (setConfirming(false), setError(undefined))}
        onConfirm={async () => {
          try {
            await api.deleteService(props.service.linkName);
            setConfirming(false);
            navigate('/new/custom');
          } catch (reason) {
            setError(reason);
          }
        }}
      >
        <p>The service is deleted for everyone in your organization. A service that still has connections cannot be deleted.</p>
        <ErrorMessage error={error} />
      </Confirm>
    </div>
  );
}

/** "Connection Details": name, link name (proposed from the name as it is typed), scopes, parameters, login-user credentials. */
function NewConnectionForm(props: { service: ServiceView }) {
  const { service } = props;
  const scopes = service.oauth2?.scopes ?? [];
  const parameters = service.connectionParameters ?? [];
  const [name, setName] = useState('');
  const [linkName, setLinkName] = useState('');
  const [linkNameEdited, setLinkNameEdited] = useState(false);
  const [chosen, setChosen] = useState<string[]>(() => scopes.map((scope) => scope.name));
  const [values, setValues] = useState<Record<string, string>>({});
  const [loginUser, setLoginUser] = useState(false);
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const [created, setCreated] = useState<ConnectionView>();
  const [linkNameChecked, setLinkNameChecked] = useState<string>();

  const apiError = error instanceof ApiError ? error : undefined;
  const fieldError = (path: string) => apiError?.about(path);
  const linkNameError = apiError?.code === 'link_name_taken' ? apiError.message : fieldError('linkName');
  const shownElsewhere = apiError && (apiError.code === 'link_name_taken' || ['name', 'linkName', 'scopes', 'parameters'].some((path) => fieldError(path)));

  if (created) {
    return <Authorize connection={created} service={service} />;
  }

  return (
    <section className="card" aria-labelledby="connection-details">
      <h2 id="connection-details">Connection Details</h2>
      <form
        noValidate
        onSubmit={async (event) => {
          event.preventDefault();
          const problem = linkNameProblem(linkName);
          if (!name.trim() || problem) {
            setError(
              new ApiError(400, 'validation_failed', 'Some fields need attention.', [
                ...(!name.trim() ? [{ path: 'name', message: 'Enter a connection name.' }] : []),
                ...(problem ? [{ path: 'linkName', message: problem }] : []),
              ]),
            );
            return;
          }
          setBusy(true);
          setError(undefined);
          try {
            const connection = await api.createConnection({
              name: name.trim(),
              linkName,
              service: service.linkName,
              ...(scopes.length ? { scopes: chosen } : {}),
              ...(parameters.length ? { parameters: values } : {}),
              useLoginUserCredentials: loginUser,
            });
            setCreated(connection);
          } catch (reason) {
            setError(reason);
          } finally {
            setBusy(false);
          }
        }}
      >
        {!shownElsewhere && <ErrorMessage error={error} />}
        <TextField
          label="Connection Name"
          name="name"
          value={name}
          maxLength={50}
          onChange={(value) => {
            setName(value);
            if (!linkNameEdited) setLinkName(proposeLinkName(value));
          }}
          hint="The display name of the connection, up to 50 characters."
          error={fieldError('name')}
          required
        />
        <TextField
          label="Connection Link Name"
          name="linkName"
          value={linkName}
          maxLength={50}
          onChange={(value) => {
            setLinkName(value);
            setLinkNameEdited(value !== '');
            setLinkNameChecked(undefined);
          }}
          hint="Products call through the connection by this name. It begins with a lowercase letter and holds lowercase letters, digits and underscores; it never changes."
          error={linkNameError ?? (linkNameChecked === linkName ? linkNameProblem(linkName) : undefined)}
          required
        />
        {scopes.length > 0 && (
          <fieldset className="field" aria-describedby="scopes-hint">
            <legend>Scopes</legend>
            <p className="hint" id="scopes-hint">
              What the connection may do at {service.name}.
            </p>
            {scopes.map((scope) => (
              <Checkbox
                key={scope.name}
                name="scopes"
                label={`${scope.displayName} (${scope.name})`}
                checked={chosen.includes(scope.name)}
                onChange={(checked) => setChosen((old) => (checked ? [...old, scope.name] : old.filter((item) => item !== scope.name)))}
              />
            ))}
            {fieldError('scopes') && (
              <p className="field-error" role="alert">
                {fieldError('scopes')}
              </p>
            )}
          </fieldset>
        )}
        {parameters.map((parameter) => (
          <TextField
            key={parameter.name}
            label={parameter.displayName}
            name={`parameters.${parameter.name}`}
            value={values[parameter.name] ?? ''}
            onChange={(value) => setValues((old) => ({ ...old, [parameter.name]: value }))}
            hint={`For example ${parameter.example}`}
            error={fieldError(`parameters.${parameter.name}`) ?? fieldError('parameters')}
            required
          />
        ))}
        <Checkbox
          name="useLoginUserCredentials"
          label="Use credentials of login user"
          checked={loginUser}
          onChange={setLoginUser}
          hint="Each user of your organization authorizes the connection with their own credentials; yours are used for you only. Leave it unchecked to let everyone use the credentials you authorize."
        />
        <div className="actions">
          <button type="submit" className="button button-primary" disabled={busy} onClick={() => setLinkNameChecked(linkName)}>
            {busy ? 'Creating…' : 'Create and Connect'}
          </button>
        </div>
      </form>
    </section>
  );
}

/** After "Create and Connect": the authorization, by auth type. */
export function Authorize(props: { connection: ConnectionView; service: Pick<ServiceView, 'name' | 'authType' | 'apiKey' | 'oauth2'>; onDone?: (connection: ConnectionView) => void; onCancel?: () => void }) {
  const { connection, service } = props;
  const [error, setError] = useState<unknown>();
  const [busy, setBusy] = useState(false);
  const done = (result: ConnectionView) => (props.onDone ? props.onDone(result) : navigate(`/connections/${result.linkName}?plugboard_status=connected`));
  const redirected = service.authType === 'oauth1' || (service.authType === 'oauth2' && service.oauth2?.grantType !== 'client_credentials');

  return (
    <section className="card" aria-labelledby="authorize-title">
      <h2 id="authorize-title">Connect {connection.name}</h2>
      {service.authType === 'api_key' || service.authType === 'basic' ? (
        <>
          <p>
            {service.authType === 'basic'
              ? `Enter the username and password for ${service.name}. Plugboard sends them as a Basic Authorization header.`
              : `Enter the values ${service.name} gave you. They are stored encrypted and never shown again.`}
          </p>
          <CredentialsForm
            fields={service.authType === 'basic' ? { kind: 'basic' } : { kind: 'api_key', params: service.apiKey?.params ?? [] }}
            submit="Connect"
            onCancel={props.onCancel ?? (() => navigate(`/connections/${connection.linkName}`))}
            onSubmit={async (credentials) => {
              const result = await api.authorize(connection.linkName, credentials);
              if ('connection' in result) done(result.connection);
            }}
          />
        </>
      ) : (
        <>
          <p>{redirected ? `You will sign in at ${service.name} and allow Plugboard to use it, then come back here.` : `Plugboard fetches a token from ${service.name} with its client credentials.`}</p>
          <ErrorMessage error={error} />
          <div className="actions">
            {props.onCancel && (
              <button type="button" className="button" onClick={props.onCancel}>
                Cancel
              </button>
            )}
            <button
              type="button"
              className="button button-primary"
              disabled={busy}
              autoFocus
              onClick={async () => {
                setBusy(true);
                setError(undefined);
                try {
                  const result = await api.authorize(connection.linkName, redirected ? { returnUrl: returnHere(`/connections/${connection.linkName}`) } : {});
                  if ('authorizeUrl' in result) location.assign(result.authorizeUrl);
                  else done(result.connection);
                } catch (reason) {
                  setError(reason);
                  setBusy(false);
                }
              }}
            >
              {busy ? 'Connecting…' : `Connect to ${service.name}`}
            </button>
          </div>
        </>
      )}
    </section>
  );
}
