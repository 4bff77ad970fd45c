//! Every sample event decodes to the trigger it is named for; hostile input never panics.
