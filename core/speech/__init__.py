"""Speech as phones: the phone set, the pronouncing lexicon, forced alignment of a script, the phonetic encoder's
frame posteriors. Used by the script path (``parley animate --text``) and the speaker-independent audio path."""
