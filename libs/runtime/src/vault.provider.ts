import type { Provider } from '@nestjs/common';
import { Keyring, Vault } from '@plugboard/vault';
import type { PlatformConfig } from './config';
import { PLATFORM_CONFIG } from './platform.module';

/** The vault for apps that keep secrets; it needs the master key, which distributed mode requires of them. */
export const vaultProvider: Provider = {
  provide: Vault,
  useFactory: (config: PlatformConfig) => {
    if (!config.PLUGBOARD_MASTER_KEY) throw new Error('PLUGBOARD_MASTER_KEY is required by this app: it keeps secrets in the vault');
    return new Vault(Keyring.parse(config.PLUGBOARD_MASTER_KEY));
  },
  inject: [PLATFORM_CONFIG],
};
