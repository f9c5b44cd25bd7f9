// The reference server's object-storage backend (server.mjs --s3-bucket): @tus/s3-store for
// the uploads and the bucket itself for the delivered/ claims, so several servers behind a
// load balancer can share one bucket and still deliver each (package, region) once.
//
// What S3Store leaves in the bucket (node_modules/@tus/s3-store/dist/index.js):
//   <id>.info   the upload's JSON (id, size, offset, metadata, …), written at creation
//   <id>        the bytes: a multipart upload under this key until the last PATCH, then
//               completed into an object — so an object <id> exists only for a finished upload
//   <id>.part   a trailing piece smaller than a part, between PATCHes of an unfinished upload
// and this file adds delivered/<package_id>.<receiver> (JSON: upload_id, sha256, size).
import { S3 } from '@aws-sdk/client-s3';
import { S3Store } from '@tus/s3-store';

const MAX_CLAIM_BYTES = 4096;   // a claim is ~150 bytes of JSON

function s3Error(err, ...names) {
  return names.includes(err?.name) || names.includes(err?.Code);
}

export function s3Backend({ bucket, endpoint, region, pathStyle, partSize, sha256Of }) {
  // Credentials: the SDK's default chain (AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY, a
  // profile, instance roles); never on the command line, where ps would show them.
  const clientConfig = { region, endpoint, forcePathStyle: pathStyle };
  const datastore = new S3Store({
    // A small part size lets a test reach real multipart parts with small packages; S3 (and
    // moto, MinIO) refuse parts under 5 MiB but the last, so keep the default elsewhere.
    ...(partSize ? { partSize, minPartSize: partSize } : {}),
    s3ClientConfig: { bucket, ...clientConfig },
  });
  const client = new S3(clientConfig);
  const claimKey = (key) => `delivered/${key}`;

  async function readClaim(key) {
    try {
      const { Body, ContentLength } = await client.getObject({ Bucket: bucket,
                                                               Key: claimKey(key) });
      if (!(ContentLength <= MAX_CLAIM_BYTES)) throw new Error(`claim ${key} is too large`);
      return JSON.parse(await Body.transformToString());
    } catch (err) {
      if (s3Error(err, 'NoSuchKey', 'NotFound')) return null;
      throw err;
    }
  }

  // Put delivered/<key> unless it exists. Returns true when an earlier upload holds it.
  async function claim(key, record) {
    for (let attempt = 0; ; attempt += 1) {
      try {
        await client.putObject({ Bucket: bucket, Key: claimKey(key), IfNoneMatch: '*',
                                 Body: JSON.stringify(record),
                                 ContentType: 'application/json' });
        return false;
      } catch (err) {
        // 409: another conditional put of the same key is in flight; it decides, ask again
        if (s3Error(err, 'ConditionalRequestConflict') && attempt < 3) continue;
        if (!s3Error(err, 'PreconditionFailed')) throw err;
      }
      // The key is taken. By this very upload when the server died after the put, or the
      // kiosk retried its last PATCH: still the first delivery.
      const held = await readClaim(key);
      return held?.upload_id !== record.upload_id;
    }
  }

  return {
    datastore,
    async finish(upload, key) {
      const { Body, ContentLength } = await client.getObject({ Bucket: bucket, Key: upload.id });
      const sha256 = await sha256Of(Body);
      const duplicate = await claim(key, { upload_id: upload.id, sha256, size: ContentLength });
      if (duplicate) {
        await client.deleteObjects({ Bucket: bucket, Delete: {
          Objects: [{ Key: upload.id }, { Key: `${upload.id}.info` }] } });
      }
      return { sha256, size: ContentLength, duplicate };
    },
    async lookup(key) {
      const held = await readClaim(key);
      if (held === null) return null;
      return { size: held.size, sha256: held.sha256 };
    },
  };
}
