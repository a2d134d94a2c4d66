//! Replies on the ConversationRelay WebSocket through the API Gateway Management API
//! (`POST /@connections/{connectionId}`, AWS "Use @connections commands in your backend
//! service"). The caller awaits each send before the next, so one reply has one ordered writer.
//! Endpoint: `RELAY_MANAGEMENT_URL` (`https://{api-id}.execute-api.{region}.amazonaws.com/{stage}`
//! in AWS; the local gateway's address in `make run` and the tests).

use crate::error::Error;
use aws_sdk_apigatewaymanagement::primitives::Blob;

/// Outcome of a send.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sent {
    /// Delivered to API Gateway for the socket.
    Delivered,
    /// The connection is gone (410 `GoneException`): the caller hung up or the session ended.
    Gone,
}

/// The Management API client for one WebSocket API stage.
#[derive(Debug, Clone)]
pub struct Relay {
    client: aws_sdk_apigatewaymanagement::Client,
}

impl Relay {
    /// A client for `endpoint` (the stage URL) with the SDK settings of `sdk`.
    pub fn new(sdk: &crate::SdkConfig, endpoint: &str) -> Self {
        let conf = aws_sdk_apigatewaymanagement::config::Builder::from(sdk)
            .endpoint_url(endpoint.trim_end_matches('/'))
            .build();
        Self {
            client: aws_sdk_apigatewaymanagement::Client::from_conf(conf),
        }
    }

    /// Sends one JSON text frame to `connection_id`.
    ///
    /// Errors: [`Error::Relay`] for any failure but a gone connection.
    pub async fn send(&self, connection_id: &str, frame: &str) -> Result<Sent, Error> {
        let r = self
            .client
            .post_to_connection()
            .connection_id(connection_id)
            .data(Blob::new(frame.as_bytes().to_vec()))
            .send()
            .await;
        match r {
            Ok(_) => Ok(Sent::Delivered),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_gone_exception()) =>
            {
                Ok(Sent::Gone)
            }
            Err(e) => Err(Error::Relay {
                op: "PostToConnection",
                message: aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string(),
            }),
        }
    }

    /// Closes `connection_id` (a refused `setup`).
    ///
    /// Errors: [`Error::Relay`].
    pub async fn close(&self, connection_id: &str) -> Result<(), Error> {
        match self
            .client
            .delete_connection()
            .connection_id(connection_id)
            .send()
            .await
        {
            Ok(_) => Ok(()),
            Err(e)
                if e.as_service_error()
                    .is_some_and(|se| se.is_gone_exception()) =>
            {
                Ok(())
            }
            Err(e) => Err(Error::Relay {
                op: "DeleteConnection",
                message: aws_sdk_apigatewaymanagement::error::DisplayErrorContext(&e).to_string(),
            }),
        }
    }
}
