import { fetchTransport, type HttpTransportFactory } from 'stowage-client';

/**
 * The browser's HTTP stack, telling `onRefused` of every 401: whichever call meets an expired or
 * refused token, the console hears of it once, in one place, and asks to sign in again.
 */
export function watchRefusals(onRefused: () => void): HttpTransportFactory {
  return (timeouts) => {
    const http = fetchTransport(timeouts);
    return {
      async request(request) {
        const response = await http.request(request);
        if (response.statusCode === 401) onRefused();
        return response;
      },
      close: () => http.close(),
    };
  };
}
