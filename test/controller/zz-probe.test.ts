import { load } from '../../src/controller/zz-probe';
test('loads', () => { const k = load(); const kc = new k.KubeConfig(); expect(typeof k.makeInformer).toBe('function'); expect(kc).toBeTruthy(); });
