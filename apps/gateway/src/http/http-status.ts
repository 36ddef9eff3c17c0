// The table lives in @plugboard/contracts: the invoke proxy answers HTTP too (/v1/proxy).
export { HTTP_STATUS } from '@plugboard/contracts';
