/** The secret the server signs and keys with (TOKEN_SECRET, or the one kept in the database). */
export class ServerSecret {
  constructor(readonly value: string) {}
}
